/**
 * The test proxy's link delay (server/dev/tcpProxy.ts): every chunk, each way, is passed on
 * `delayMs` after it arrived and never overtakes an earlier one, so a round trip through it takes
 * at least twice the delay. Measured against an echo server on loopback.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTcpProxy } from '../../server/dev/tcpProxy';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function echoServer(): Promise<number> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A client through the proxy, with everything echoed back so far and when each byte arrived. */
async function connect(port: number): Promise<{ socket: net.Socket; received: () => string; arrivals: { at: number; text: string }[] }> {
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  const arrivals: { at: number; text: string }[] = [];
  socket.on('data', (chunk: Buffer) => arrivals.push({ at: performance.now(), text: chunk.toString() }));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, received: () => arrivals.map((a) => a.text).join(''), arrivals };
}

describe('tcpProxy delay', () => {
  it('delays each direction by delayMs: a round trip takes at least twice the delay, and bytes keep their order', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy(() => echo, '127.0.0.1', { delayMs: 60 });
    cleanups.push(() => proxy.close());
    const { socket, received, arrivals } = await connect(proxy.port);

    const sentAt = performance.now();
    socket.write('ping');
    await vi.waitFor(() => expect(received()).toBe('ping'), { timeout: 5_000, interval: 5 });
    expect(arrivals[0]!.at - sentAt).toBeGreaterThanOrEqual(120);

    // Many small writes in a burst: all in flight at once (a delay, not a throttle), in order.
    const burst = Array.from({ length: 200 }, (_, i) => `<${i}>`);
    const burstAt = performance.now();
    for (const piece of burst) socket.write(piece);
    await vi.waitFor(() => expect(received()).toBe(`ping${burst.join('')}`), { timeout: 5_000, interval: 5 });
    const burstArrivals = arrivals.slice(1);
    expect(burstArrivals[0]!.at - burstAt).toBeGreaterThanOrEqual(120);
  });

  it('keeps order when the delay is lowered while chunks are in flight, and a delay of 0 adds none', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy(() => echo, '127.0.0.1', { delayMs: 150 });
    cleanups.push(() => proxy.close());
    const { socket, received, arrivals } = await connect(proxy.port);

    const sentAt = performance.now();
    socket.write('first;');
    await vi.waitFor(() => expect(proxy.chunksInFlight).toBe(1), { timeout: 5_000, interval: 1 });
    proxy.setDelay(0);
    socket.write('second;');
    await vi.waitFor(() => expect(received()).toBe('first;second;'), { timeout: 5_000, interval: 5 });
    // "second" waited behind "first" (one way each: 150 ms to the echo server, then at once back).
    expect(arrivals.at(-1)!.at - sentAt).toBeGreaterThanOrEqual(150);

    // Nothing in flight any more: with no delay a round trip is just loopback.
    const againAt = performance.now();
    socket.write('third;');
    await vi.waitFor(() => expect(received()).toBe('first;second;third;'), { timeout: 5_000, interval: 5 });
    expect(arrivals.at(-1)!.at - againAt).toBeLessThan(150);
    expect(proxy.delayMs).toBe(0);
  });

  it('refuses a negative delay', async () => {
    await expect(startTcpProxy(() => 1, '127.0.0.1', { delayMs: -1 })).rejects.toThrow(RangeError);
  });

  it('cut() drops connections with chunks still in flight; heal() lets new ones through, still delayed', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy(() => echo, '127.0.0.1', { delayMs: 100 });
    cleanups.push(() => proxy.close());
    const first = await connect(proxy.port);
    const closed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));
    first.socket.write('lost');
    proxy.cut();
    await closed;
    expect(first.received()).toBe('');

    proxy.heal();
    const second = await connect(proxy.port);
    const sentAt = performance.now();
    second.socket.write('after heal');
    await vi.waitFor(() => expect(second.received()).toBe('after heal'), { timeout: 5_000, interval: 5 });
    expect(second.arrivals[0]!.at - sentAt).toBeGreaterThanOrEqual(200);
    expect(proxy.connectionsAccepted).toBe(2);
  });
});
