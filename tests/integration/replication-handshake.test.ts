/**
 * The cluster-link handshake over real sockets: a `ws` server on port 0 accepting upgrades on
 * /cluster/link (the relay server wires this path in for real; here the test does), dialed by a
 * `ws` client. The unit tests cover every refusal over in-memory channels; this shows the same
 * code works on the wire, including frames that arrive right behind the acceptor's proof.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { createLogger } from '../../server/log';
import { LinkRefusedError, runHandshake, type LinkPeer, type LinkSelf } from '../../server/replication/handshake';
import { decodeHello } from '../../server/replication/linkFrames';
import { wsLinkChannel } from '../../server/replication/wsLinkChannel';

const SECRET = 'x'.repeat(24) + 'cluster!';

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', 'test', sink), lines };
}

interface Acceptor {
  url: string;
  /** One settled handshake per accepted socket, in order. */
  handshakes: Promise<LinkPeer>[];
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** An HTTP server whose only WebSocket path is /cluster/link, each socket handed to the handshake as acceptor. */
async function startAcceptor(self: LinkSelf, onLink?: (peer: LinkPeer, socket: WebSocket) => void): Promise<Acceptor> {
  const { log, lines } = captureLog();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const handshakes: Promise<LinkPeer>[] = [];
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://link').pathname !== '/cluster/link') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const handshake = runHandshake(wsLinkChannel(ws), 'acceptor', self, { log, peerAddress: `${req.socket.remoteAddress}:${req.socket.remotePort}` });
      handshake.then((peer) => onLink?.(peer, ws)).catch((error: unknown) => expect(error).toBeInstanceOf(LinkRefusedError));
      handshakes.push(handshake);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/cluster/link`,
    handshakes,
    lines,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Dials `url` as `self`; the channel is made before 'open' so the acceptor's hello is never missed. */
function dial(url: string, self: LinkSelf) {
  const { log, lines } = captureLog();
  const socket = new WebSocket(url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const handshake = runHandshake(wsLinkChannel(socket), 'dialer', self, { log, peerAddress: url });
  return { socket, closed, handshake, lines };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('cluster-link handshake over ws', () => {
  it('links two regions, and the frames behind the acceptor\'s proof reach the dialer', async () => {
    const acceptor = await startAcceptor({ region: 'us', secret: SECRET, publicUrl: 'https://us.example.com', storageId: 'us-store' }, (peer, socket) => {
      // Sent in the same tick as the proof, so it can share its TCP segment.
      socket.send(Uint8Array.of(16, peer.peerRegion.length));
      peer.onFrame((frame) => socket.send(Uint8Array.of(17, ...frame)));
    });
    cleanups.push(acceptor.close);
    const dialer = dial(acceptor.url, { region: 'eu', secret: SECRET, publicUrl: 'https://eu.example.com', storageId: 'eu-store' });
    cleanups.push(async () => dialer.socket.terminate());

    const peer = await dialer.handshake;
    expect(peer).toMatchObject({ peerRegion: 'us', peerPublicUrl: 'https://us.example.com', peerStorageId: 'us-store' });
    await expect(acceptor.handshakes[0]).resolves.toMatchObject({ peerRegion: 'eu', peerPublicUrl: 'https://eu.example.com', peerStorageId: 'eu-store' });

    const frames: number[][] = [];
    peer.onFrame((frame) => frames.push([...frame]));
    dialer.socket.send(Uint8Array.of(5));
    await expect.poll(() => frames).toEqual([[16, 2], [17, 5]]);
    expect([...dialer.lines, ...acceptor.lines].filter((line) => (line.level as number) >= 40)).toEqual([]);
  });

  it('refuses a dialer with the wrong CLUSTER_SECRET with 4491, and it receives nothing but the hello', async () => {
    const acceptor = await startAcceptor({ region: 'us', secret: SECRET, storageId: 'us-store' });
    cleanups.push(acceptor.close);
    const dialer = dial(acceptor.url, { region: 'eu', secret: 'y'.repeat(32), storageId: 'eu-store' });
    const received: Buffer[] = [];
    dialer.socket.on('message', (data: Buffer) => received.push(data));

    await expect(dialer.handshake).rejects.toMatchObject({ code: CloseCode.clusterAuthFailed, by: 'peer' });
    await expect(dialer.closed).resolves.toEqual({ code: 4491, reason: 'cluster authentication failed' });
    await expect(acceptor.handshakes[0]).rejects.toMatchObject({ code: CloseCode.clusterAuthFailed, by: 'us' });
    // The hello: a version and a nonce, not the acceptor's name, URL or storage id.
    expect(received).toHaveLength(1);
    expect(Object.keys(decodeHello(new Uint8Array(received[0]!))!).sort()).toEqual(['nonce', 'v']);
    const warns = acceptor.lines.filter((line) => line.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ msg: 'cluster link refused: cluster authentication failed', peerRegion: 'eu', code: 4491 });
    expect(warns[0]!.peerAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('closes with 4490 a peer that sends text instead of link frames', async () => {
    const acceptor = await startAcceptor({ region: 'us', secret: SECRET });
    cleanups.push(acceptor.close);
    const socket = new WebSocket(acceptor.url);
    cleanups.push(async () => socket.terminate());
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.once('message', () => socket.send('{"region":"eu"}'));
    await expect(closed).resolves.toBe(CloseCode.linkMalformed);
    await expect(acceptor.handshakes[0]).rejects.toMatchObject({ code: CloseCode.linkMalformed, by: 'us' });
    expect(acceptor.lines.filter((line) => line.level === 40)).toMatchObject([{ code: 4490, msg: 'cluster link refused: malformed link frame' }]);
  });
});
