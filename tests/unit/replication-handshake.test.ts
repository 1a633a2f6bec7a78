import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { createLogger } from '../../server/log';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  LinkRefusedError,
  runHandshake,
  type HandshakeOptions,
  type LinkChannel,
  type LinkPeer,
  type LinkRole,
  type LinkSelf,
} from '../../server/replication/handshake';
import {
  LinkMessageType,
  MAX_HANDSHAKE_FRAME_BYTES,
  decodeAcceptorProof,
  decodeDialerProof,
  decodeHello,
  encodeAcceptorProof,
  encodeDialerProof,
  encodeHello,
  readLinkHeader,
} from '../../server/replication/linkFrames';

const SECRET = 'correct horse battery staple, 32+';
const OTHER_SECRET = 'correct horse battery staple, 33+';

/**
 * One end of an in-memory channel pair. Delivery is a microtask later, like a socket's, and in
 * order; a close reaches both ends after every frame sent before it. Frames that arrive before
 * any listener are held for the first one (as wsLinkChannel does).
 */
class MemoryChannel implements LinkChannel {
  other!: MemoryChannel;
  /** Every frame this end sent, in order. */
  readonly sent: Uint8Array[] = [];
  closedWith: { code: number; reason: string } | null = null;
  /** How many frames reached this end. */
  delivered = 0;
  private readonly frameListeners = new Set<(frame: Uint8Array) => void>();
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();
  private readonly held: Uint8Array[] = [];

  send(frame: Uint8Array): void {
    if (this.closedWith) return;
    this.sent.push(frame);
    queueMicrotask(() => this.other.deliver(frame));
  }

  onFrame(listener: (frame: Uint8Array) => void): () => void {
    this.frameListeners.add(listener);
    for (const frame of this.held.splice(0)) listener(frame);
    return () => this.frameListeners.delete(listener);
  }

  onClose(listener: (code: number, reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    queueMicrotask(() => {
      this.emitClose(code, reason);
      this.other.closedWith ??= { code, reason };
      this.other.emitClose(code, reason);
    });
  }

  private deliver(frame: Uint8Array): void {
    if (this.closedWith) return;
    this.delivered++;
    if (this.frameListeners.size === 0) this.held.push(frame);
    for (const listener of this.frameListeners) listener(frame);
  }

  private emitClose(code: number, reason: string): void {
    for (const listener of [...this.closeListeners]) listener(code, reason);
  }
}

function channelPair(): [MemoryChannel, MemoryChannel] {
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  a.other = b;
  b.other = a;
  return [a, b];
}

/** A logger whose lines the test reads back (pino writes to the sink synchronously). */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('debug', 'test', sink), lines };
}

const regionA: LinkSelf = { region: 'a', secret: SECRET, publicUrl: 'https://a.example.com', storageId: 'store-a' };
const regionB: LinkSelf = { region: 'b', secret: SECRET, publicUrl: 'https://b.example.com', storageId: 'store-b' };

interface Outcome {
  peer?: LinkPeer;
  error?: unknown;
}

function settle(promise: Promise<LinkPeer>): Promise<Outcome> {
  return promise.then(
    (peer) => ({ peer }),
    (error: unknown) => ({ error }),
  );
}

/** Runs one side over `channel`, recording its log lines. */
function side(channel: LinkChannel, role: LinkRole, self: LinkSelf, extra: Partial<HandshakeOptions> = {}) {
  const { log, lines } = captureLog();
  const outcome = settle(runHandshake(channel, role, self, { log, peerAddress: `${role === 'dialer' ? 'acceptor' : 'dialer'}-address:1234`, ...extra }));
  return { outcome, lines };
}

function link(dialerSelf: LinkSelf, acceptorSelf: LinkSelf, options: { dialer?: Partial<HandshakeOptions>; acceptor?: Partial<HandshakeOptions> } = {}) {
  const [dialerEnd, acceptorEnd] = channelPair();
  const acceptor = side(acceptorEnd, 'acceptor', acceptorSelf, options.acceptor);
  const dialer = side(dialerEnd, 'dialer', dialerSelf, options.dialer);
  return { dialerEnd, acceptorEnd, dialer, acceptor };
}

function expectRefused(outcome: Outcome, code: number, by: 'us' | 'peer'): void {
  expect(outcome.peer).toBeUndefined();
  expect(outcome.error).toBeInstanceOf(LinkRefusedError);
  expect(outcome.error).toMatchObject({ code, by });
}

/** The one warn line a refusal logs: the peer's claimed name and address, and nothing about documents. */
function expectRefusalLogged(lines: Record<string, unknown>[], code: number, claimed: string | undefined, address: string): void {
  const warns = lines.filter((line) => line.level === 40);
  expect(warns).toHaveLength(1);
  expect(warns[0]).toMatchObject({ code, peerAddress: address });
  expect(warns[0]!.peerRegion).toBe(claimed);
  const fields = Object.keys(warns[0]!).filter((key) => !['level', 'time', 'pid', 'hostname', 'name', 'msg'].includes(key));
  expect(fields.sort()).toEqual(['code', 'detail', 'peerAddress', 'role', ...(claimed === undefined ? [] : ['peerRegion'])].sort());
  expect(JSON.stringify(warns[0])).not.toMatch(/doc/i);
}

/** Plays one side by hand: answers each received frame with what `script` returns. */
function scripted(channel: MemoryChannel, script: (frame: Uint8Array, index: number) => Uint8Array | undefined): Uint8Array[] {
  const received: Uint8Array[] = [];
  channel.onFrame((frame) => {
    received.push(frame);
    const reply = script(frame, received.length - 1);
    if (reply) channel.send(reply);
  });
  return received;
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** A deterministic PRNG (mulberry32), so a failing garbage case can be replayed. */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('cluster-link handshake', () => {
  it('verifies both sides and tells each the other\'s name, public URL and storage id', async () => {
    const { dialer, acceptor, dialerEnd, acceptorEnd } = link(regionA, { region: 'b', secret: SECRET });
    const [d, a] = await Promise.all([dialer.outcome, acceptor.outcome]);
    expect(d.error).toBeUndefined();
    expect(a.error).toBeUndefined();
    expect(d.peer).toMatchObject({ peerRegion: 'b', peerPublicUrl: undefined, peerStorageId: undefined });
    expect(a.peer).toMatchObject({ peerRegion: 'a', peerPublicUrl: 'https://a.example.com', peerStorageId: 'store-a' });
    // Three frames, and the secret is in none of them.
    expect([acceptorEnd.sent.length, dialerEnd.sent.length]).toEqual([2, 1]);
    const secretBytes = new TextEncoder().encode(SECRET);
    for (const frame of [...acceptorEnd.sent, ...dialerEnd.sent]) expect(containsBytes(frame, secretBytes)).toBe(false);
    expect(dialerEnd.closedWith).toBeNull();
    expect([...dialer.lines, ...acceptor.lines].filter((line) => (line.level as number) >= 40)).toEqual([]);
  });

  it('hands over the frames that follow, including those sent before the caller listens', async () => {
    const { dialer, acceptor, dialerEnd, acceptorEnd } = link(regionA, regionB);
    const d = await dialer.outcome;
    dialerEnd.send(Uint8Array.of(16, 1));
    dialerEnd.send(Uint8Array.of(16, 2));
    const a = await acceptor.outcome;
    // The dialer's proof and both frames have reached the acceptor before its caller listens.
    await vi.waitFor(() => expect(acceptorEnd.delivered).toBe(3));
    const got: number[] = [];
    a.peer!.onFrame((frame) => got.push(frame[1]!));
    dialerEnd.send(Uint8Array.of(16, 3));
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3]));
    expect(d.peer!.peerRegion).toBe('b');
  });

  it.each([
    ['the dialer', { ...regionA, secret: OTHER_SECRET }, regionB],
    ['the acceptor', regionA, { ...regionB, secret: OTHER_SECRET }],
  ])('a wrong secret on %s is refused with 4491 by the acceptor, and the dialer learns nothing but the close', async (_who, dialerSelf, acceptorSelf) => {
    const { dialer, acceptor, acceptorEnd, dialerEnd } = link(dialerSelf, acceptorSelf);
    const [d, a] = await Promise.all([dialer.outcome, acceptor.outcome]);
    expectRefused(a, CloseCode.clusterAuthFailed, 'us');
    expectRefused(d, CloseCode.clusterAuthFailed, 'peer');
    expect(dialerEnd.closedWith).toEqual({ code: 4491, reason: 'cluster authentication failed' });
    // All the acceptor ever sent is its hello: a version and a nonce.
    expect(acceptorEnd.sent).toHaveLength(1);
    expect(Object.keys(decodeHello(acceptorEnd.sent[0]!)!).sort()).toEqual(['nonce', 'v']);
    expectRefusalLogged(acceptor.lines, 4491, 'a', 'dialer-address:1234');
  });

  it('the dialer refuses with 4491 an acceptor that cannot prove the secret (an impostor), after sending nothing but its proof', async () => {
    const [dialerEnd, impostorEnd] = channelPair();
    const received = scripted(impostorEnd, () => encodeAcceptorProof({ v: 1, region: 'b', publicUrl: undefined, storageId: undefined, mac: new Uint8Array(32) }));
    const dialer = side(dialerEnd, 'dialer', regionA);
    impostorEnd.send(encodeHello({ v: 1, nonce: new Uint8Array(32).fill(1) }));
    expectRefused(await dialer.outcome, CloseCode.clusterAuthFailed, 'us');
    expect(impostorEnd.closedWith).toMatchObject({ code: 4491 });
    expect(received.map((frame) => readLinkHeader(frame).type)).toEqual([LinkMessageType.dialerProof]);
    expectRefusalLogged(dialer.lines, 4491, 'b', 'acceptor-address:1234');
  });

  it('refuses a dialer proof replayed from an earlier session (the acceptor\'s nonce is fresh)', async () => {
    const first = link(regionA, regionB);
    await Promise.all([first.dialer.outcome, first.acceptor.outcome]);
    const recorded = first.dialerEnd.sent[0]!;
    expect(decodeDialerProof(recorded)).not.toBeNull();

    const [replayerEnd, acceptorEnd] = channelPair();
    scripted(replayerEnd, () => recorded);
    const acceptor = side(acceptorEnd, 'acceptor', regionB);
    expectRefused(await acceptor.outcome, CloseCode.clusterAuthFailed, 'us');
    expect(acceptorEnd.sent).toHaveLength(1);
    expectRefusalLogged(acceptor.lines, 4491, 'a', 'dialer-address:1234');
  });

  it('refuses an acceptor\'s hello and proof replayed from an earlier session (the dialer\'s nonce is fresh)', async () => {
    const first = link(regionA, regionB);
    await Promise.all([first.dialer.outcome, first.acceptor.outcome]);
    const [hello, proof] = first.acceptorEnd.sent;

    const [dialerEnd, replayerEnd] = channelPair();
    scripted(replayerEnd, () => proof);
    const dialer = side(dialerEnd, 'dialer', regionA);
    replayerEnd.send(hello!);
    expectRefused(await dialer.outcome, CloseCode.clusterAuthFailed, 'us');
    expectRefusalLogged(dialer.lines, 4491, 'b', 'acceptor-address:1234');
  });

  it.each([
    ['the dialer\'s storage id', 'acceptor', (frame: Uint8Array) => {
      const proof = decodeDialerProof(frame);
      return proof ? encodeDialerProof({ ...proof, storageId: 'someone-else' }) : frame;
    }],
    ['the acceptor\'s public URL', 'dialer', (frame: Uint8Array) => {
      const proof = decodeAcceptorProof(frame);
      return proof ? encodeAcceptorProof({ ...proof, publicUrl: 'https://evil.example.com' }) : frame;
    }],
  ] as const)('refuses with 4491 a proof in which %s was changed on the way', async (_what, verifier, tamper) => {
    // A relay in the middle that rewrites one field of one frame and passes the rest.
    const [dialerEnd, middleToDialer] = channelPair();
    const [middleToAcceptor, acceptorEnd] = channelPair();
    middleToDialer.onFrame((frame) => middleToAcceptor.send(tamper(frame)));
    middleToAcceptor.onFrame((frame) => middleToDialer.send(tamper(frame)));
    const acceptor = side(acceptorEnd, 'acceptor', regionB);
    const dialer = side(dialerEnd, 'dialer', regionA);
    const outcome = await (verifier === 'acceptor' ? acceptor.outcome : dialer.outcome);
    expectRefused(outcome, CloseCode.clusterAuthFailed, 'us');
  });

  it('refuses a peer proving this region\'s own name with 4492, after checking its MAC', async () => {
    const { dialer, acceptor } = link({ ...regionA, region: 'b' }, regionB);
    const [d, a] = await Promise.all([dialer.outcome, acceptor.outcome]);
    expectRefused(a, CloseCode.regionNameInUse, 'us');
    expectRefused(d, CloseCode.regionNameInUse, 'peer');
    expectRefusalLogged(acceptor.lines, 4492, 'b', 'dialer-address:1234');

    // With a wrong secret as well, the answer is 4491: a stranger does not learn our name.
    const stranger = link({ ...regionA, region: 'b', secret: OTHER_SECRET }, regionB);
    expectRefused(await stranger.acceptor.outcome, CloseCode.clusterAuthFailed, 'us');
  });

  it('refuses with 4492 a proven name the caller already has a link with, on either side', async () => {
    const onAcceptor = link(regionA, regionB, { acceptor: { nameInUse: (name) => name === 'a' } });
    expectRefused(await onAcceptor.acceptor.outcome, CloseCode.regionNameInUse, 'us');
    expectRefused(await onAcceptor.dialer.outcome, CloseCode.regionNameInUse, 'peer');

    const onDialer = link(regionA, regionB, { dialer: { nameInUse: (name) => name === 'b' } });
    expectRefused(await onDialer.dialer.outcome, CloseCode.regionNameInUse, 'us');
    expect(onDialer.acceptorEnd.closedWith).toMatchObject({ code: 4492 });
    expectRefusalLogged(onDialer.dialer.lines, 4492, 'b', 'acceptor-address:1234');
  });

  it('refuses another protocol version with 4493, on either side', async () => {
    const [dialerEnd, fakeAcceptor] = channelPair();
    const dialer = side(dialerEnd, 'dialer', regionA);
    fakeAcceptor.send(encodeHello({ v: 2, nonce: new Uint8Array(32) }));
    expectRefused(await dialer.outcome, CloseCode.linkVersionMismatch, 'us');
    expect(fakeAcceptor.closedWith).toEqual({ code: 4493, reason: 'link protocol version mismatch' });
    expectRefusalLogged(dialer.lines, 4493, undefined, 'acceptor-address:1234');

    const [fakeDialer, acceptorEnd] = channelPair();
    scripted(fakeDialer, () => encodeDialerProof({ v: 2, region: 'a', publicUrl: undefined, storageId: undefined, nonce: new Uint8Array(32), mac: new Uint8Array(32) }));
    const acceptor = side(acceptorEnd, 'acceptor', regionB);
    expectRefused(await acceptor.outcome, CloseCode.linkVersionMismatch, 'us');
  });

  it(`times out with 4494 after ${DEFAULT_HANDSHAKE_TIMEOUT_MS} ms by default, or the configured time`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const [silentEnd, acceptorEnd] = channelPair();
    const acceptor = side(acceptorEnd, 'acceptor', regionB);
    let settled = false;
    void acceptor.outcome.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(DEFAULT_HANDSHAKE_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expectRefused(await acceptor.outcome, CloseCode.linkHandshakeTimeout, 'us');
    expect(silentEnd.closedWith).toEqual({ code: 4494, reason: 'handshake timeout' });
    expectRefusalLogged(acceptor.lines, 4494, undefined, 'dialer-address:1234');

    // A dialer that got a hello and never hears back.
    const [dialerEnd, stalling] = channelPair();
    const dialer = side(dialerEnd, 'dialer', regionA, { timeoutMs: 50 });
    stalling.send(encodeHello({ v: 1, nonce: new Uint8Array(32) }));
    await vi.advanceTimersByTimeAsync(50);
    expectRefused(await dialer.outcome, CloseCode.linkHandshakeTimeout, 'us');
  });

  it('a verified link is not cut by the handshake timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { dialer, acceptor, dialerEnd } = link(regionA, regionB, { dialer: { timeoutMs: 50 }, acceptor: { timeoutMs: 50 } });
    await Promise.all([dialer.outcome, acceptor.outcome]);
    // No timer is left behind either (it would hold a closing process open for 5 s).
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(dialerEnd.closedWith).toBeNull();
  });

  it.each([
    ['an empty frame', new Uint8Array(0)],
    ['one byte', Uint8Array.of(0xff)],
    ['a text-like frame', new TextEncoder().encode('{"hello":1}')],
    ['a hello where a proof belongs', encodeHello({ v: 1, nonce: new Uint8Array(32) })],
    ['a proof of a name that is not a region name', encodeDialerProof({ v: 1, region: 'Not A Name', publicUrl: undefined, storageId: undefined, nonce: new Uint8Array(32), mac: new Uint8Array(32) })],
    ['an oversized frame', new Uint8Array(MAX_HANDSHAKE_FRAME_BYTES + 1).fill(2)],
  ])('the acceptor refuses %s with 4490, never a crash', async (_what, garbage) => {
    const [fakeDialer, acceptorEnd] = channelPair();
    scripted(fakeDialer, () => garbage);
    const acceptor = side(acceptorEnd, 'acceptor', regionB);
    expectRefused(await acceptor.outcome, CloseCode.linkMalformed, 'us');
    expect(fakeDialer.closedWith).toEqual({ code: 4490, reason: 'malformed link frame' });
    expectRefusalLogged(acceptor.lines, 4490, undefined, 'dialer-address:1234');
  });

  it('handles frames the channel held before the handshake listened like any other', async () => {
    const [dialerEnd, early] = channelPair();
    early.send(Uint8Array.of(0xff));
    await vi.waitFor(() => expect(dialerEnd.delivered).toBe(1));
    const dialer = side(dialerEnd, 'dialer', regionA);
    expectRefused(await dialer.outcome, CloseCode.linkMalformed, 'us');
    expect(early.closedWith).toMatchObject({ code: 4490 });

    // And a link whose acceptor spoke first still succeeds.
    const [dialerEnd2, acceptorEnd2] = channelPair();
    const acceptor = side(acceptorEnd2, 'acceptor', regionB);
    await vi.waitFor(() => expect(dialerEnd2.delivered).toBe(1));
    const late = side(dialerEnd2, 'dialer', regionA);
    expect((await late.outcome).peer?.peerRegion).toBe('b');
    expect((await acceptor.outcome).peer?.peerRegion).toBe('a');
  });

  it('refuses 600 seeded mutations of real handshake frames, on both sides, without resolving or crashing', async () => {
    const first = link(regionA, regionB);
    await Promise.all([first.dialer.outcome, first.acceptor.outcome]);
    const [hello, acceptorProof] = first.acceptorEnd.sent;
    const dialerProof = first.dialerEnd.sent[0]!;
    const random = prng(12);
    const mutate = (frame: Uint8Array): Uint8Array => {
      const out = Array.from(frame);
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i++) {
        const at = Math.floor(random() * out.length);
        const kind = random();
        if (kind < 0.5) out[at] = Math.floor(random() * 256);
        else if (kind < 0.75) out.splice(at, 1);
        else out.splice(at, 0, Math.floor(random() * 256));
      }
      return Uint8Array.from(out);
    };
    const codes = new Set<number>();
    for (let round = 0; round < 300; round++) {
      const [fakeDialer, acceptorEnd] = channelPair();
      scripted(fakeDialer, () => mutate(dialerProof));
      const acceptor = await side(acceptorEnd, 'acceptor', regionB).outcome;
      expect(acceptor.error).toBeInstanceOf(LinkRefusedError);
      codes.add((acceptor.error as LinkRefusedError).code);

      const [dialerEnd, fakeAcceptor] = channelPair();
      scripted(fakeAcceptor, () => mutate(acceptorProof!));
      const dialer = side(dialerEnd, 'dialer', regionA);
      fakeAcceptor.send(round % 2 === 0 ? hello! : mutate(hello!));
      const outcome = await dialer.outcome;
      expect(outcome.error).toBeInstanceOf(LinkRefusedError);
      codes.add((outcome.error as LinkRefusedError).code);
    }
    expect([...codes].every((code) => [4490, 4491, 4493].includes(code))).toBe(true);
    expect(codes.has(4490) && codes.has(4491)).toBe(true);
  });
});
