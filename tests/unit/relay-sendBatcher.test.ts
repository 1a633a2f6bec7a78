/**
 * SendBatcher: frames it writes straight to an upgraded socket reach a real ws client intact and
 * in order (every length class of RFC 6455), the messages of one task go out in one write as soon
 * as it is over (not at the end of the event-loop turn), turn-end work is written in the same
 * turn, and a broadcast is framed once for all its receivers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { pino } from 'pino';
import { SendBatcher, type QueuedSender } from '../../server/relay/SendBatcher';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Pair {
  socket: Duplex;
  /** Binary messages the client received. */
  received: Buffer[];
  client: WebSocket;
}

/** A server-side upgraded socket and the ws client connected to it. */
async function connectPair(count = 1): Promise<Pair[]> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const accepted: Duplex[] = [];
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => accepted.push(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  cleanups.push(() => server.closeAllConnections());
  const { port } = server.address() as AddressInfo;
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    cleanups.push(() => client.terminate());
    const received: Buffer[] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      received.push(data);
    });
    await new Promise((resolve) => client.once('open', resolve));
    await vi.waitFor(() => expect(accepted.length).toBe(i + 1));
    pairs.push({ socket: accepted[i]!, received, client });
  }
  return pairs;
}

class Outbox implements QueuedSender {
  private queued: Uint8Array[] = [];
  constructor(
    private readonly batcher: SendBatcher,
    private readonly socket: Duplex,
  ) {}
  send(message: Uint8Array): void {
    if (this.queued.length === 0) this.batcher.schedule(this);
    this.queued.push(message);
  }
  flushQueued(): void {
    const messages = this.queued;
    this.queued = [];
    this.batcher.write(this.socket, messages);
  }
}

function payload(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

const log = pino({ level: 'silent' });

describe('SendBatcher', () => {
  it('delivers every length class intact and in order, alone or batched', async () => {
    const [pair] = await connectPair();
    const batcher = new SendBatcher(log);
    const outbox = new Outbox(batcher, pair!.socket);
    const lengths = [1, 2, 125, 126, 127, 65_535, 65_536, 70_000, 300_000];
    const sent: Uint8Array[] = [];
    // Alone: one message per turn.
    for (const [i, length] of lengths.entries()) {
      const message = payload(length, i);
      sent.push(message);
      outbox.send(message);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Batched: small and large mixed in one turn, then only small ones in one turn.
    for (const [i, length] of lengths.entries()) {
      const message = payload(length, 100 + i);
      sent.push(message);
      outbox.send(message);
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 50; i++) {
      const message = payload(1 + (i % 7) * 40, 200 + i);
      sent.push(message);
      outbox.send(message);
    }
    await vi.waitFor(() => expect(pair!.received.length).toBe(sent.length));
    const mismatched = pair!.received.map((got, i) => (got.equals(sent[i]!) ? -1 : i)).filter((i) => i >= 0);
    expect(mismatched).toEqual([]);
  });

  it("writes a turn's messages to a socket with one write, and frames a shared message once", async () => {
    const [a, b] = await connectPair(2);
    const batcher = new SendBatcher(log);
    const writesA = vi.spyOn(a!.socket, 'write');
    const writesB = vi.spyOn(b!.socket, 'write');
    const [outA, outB] = [new Outbox(batcher, a!.socket), new Outbox(batcher, b!.socket)];
    const broadcast = payload(40, 1);
    outA.send(broadcast);
    outB.send(broadcast);
    for (let i = 0; i < 5; i++) outA.send(payload(30, 10 + i));
    expect(writesA).not.toHaveBeenCalled(); // nothing before the end of the turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(writesA).toHaveBeenCalledTimes(1);
    expect(writesB).toHaveBeenCalledTimes(1);
    // B got only the broadcast: the very buffer built for it, not a copy framed again for B.
    const framedForB = writesB.mock.calls[0]![0] as Buffer;
    outA.send(broadcast);
    outB.send(broadcast);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writesA.mock.calls[1]![0]).toBe(writesB.mock.calls[1]![0]);
    expect(framedForB.byteLength).toBe(42);
    await vi.waitFor(() => expect(a!.received.length).toBe(7));
    await vi.waitFor(() => expect(b!.received.length).toBe(2));
    expect(new Uint8Array(b!.received[0]!)).toEqual(broadcast);
  });

  it('writes as soon as the queuing task is over, and what turn-end work sends within the same turn', async () => {
    const [a] = await connectPair();
    const batcher = new SendBatcher(log);
    const writes = vi.spyOn(a!.socket, 'write');
    const out = new Outbox(batcher, a!.socket);
    const order: string[] = [];
    out.send(payload(10, 1));
    out.send(payload(10, 2));
    batcher.atTurnEnd(() => {
      order.push('turn end');
      out.send(payload(10, 3));
    });
    setImmediate(() => order.push(`next immediate: ${writes.mock.calls.length} writes`));
    expect(writes).not.toHaveBeenCalled();
    await Promise.resolve(); // the batcher's microtask was queued first, so it has run
    expect(writes).toHaveBeenCalledTimes(1);
    expect(order).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    // The turn-end task ran in the check phase and its message was written before the next immediate.
    expect(order).toEqual(['turn end', 'next immediate: 2 writes']);
    await vi.waitFor(() => expect(a!.received.length).toBe(3));
    expect(a!.received.map((m) => m[0])).toEqual([payload(10, 1)[0], payload(10, 2)[0], payload(10, 3)[0]]);
  });
});
