/**
 * The cluster-link handshake (issue #12 item 2): two regions prove to each other that they hold
 * CLUSTER_SECRET, without sending it, over an already-open channel, and learn each other's name,
 * public URL and storage id. A region is identified by the name it proves here, never by the URL
 * it was reached at: a peer may sit behind a proxy, and a URL in PEERS may change.
 *
 *   acceptor → dialer   HELLO  { v, nonce_b }
 *   dialer → acceptor   PROOF  { v, A, url_a, storage_a, nonce_a, mac_a }
 *   acceptor → dialer   PROOF  { v, B, url_b, storage_b, mac_b }        only once mac_a is verified
 *
 *   mac_a = HMAC-SHA-256(secret, "concord/link/v1" · "dialer"   · nonce_b · nonce_a · A · url_a · storage_a)
 *   mac_b = HMAC-SHA-256(secret, "concord/link/v1" · "acceptor" · nonce_a · nonce_b · mac_a · B · url_b · storage_b)
 *
 * Why this shape (it departs from the first sketch in issue #12 in three places):
 * - Each MAC covers everything its sender states (name, URL, storage id), not only the names: a
 *   stranger on the path cannot swap a URL or storage id in a frame whose MAC still verifies.
 *   MAC inputs are lib0-encoded with length prefixes, so no field can bleed into the next (a
 *   "|"-joined string could, via a storage id or URL holding "|").
 * - HELLO says nothing but a version and a nonce: the acceptor reveals its name, URL and storage
 *   id only after the dialer has proven the secret, so a stranger who connects learns nothing.
 *   The dialer does state its facts before the acceptor is verified (someone must go first): it
 *   dialed a URL its operator configured, and none of them is a secret or about a document. What
 *   a stranger posing as an acceptor gets is a MAC over its own nonce, useless elsewhere because
 *   every acceptor draws a fresh one; it could guess the secret offline against it, hence the
 *   32-character minimum (server/config.ts).
 * - mac_b covers mac_a, so the acceptor's proof answers this dialer's proof and no other.
 * The role labels stop a proof being reflected back as the other role's, and the nonces (32
 * random bytes each side, fresh every session) stop an old proof being replayed.
 *
 * What it does not do: it authenticates the handshake, not the frames after it. A relay between
 * two real regions can pass a handshake through and then read or change the link's traffic, so
 * over any untrusted network the links need TLS (https:// peers).
 *
 * Refusals close the channel with a 449x code (lib/protocol/closeCodes.ts) and log one warn line
 * with the peer's claimed name and address; nothing here knows about documents. Until the other
 * side is verified, a side sends handshake frames only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as encoding from 'lib0/encoding';
import type { Logger } from 'pino';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { MalformedFrameError } from '../../lib/protocol/frameReader';
import {
  LINK_PROTOCOL_VERSION,
  LinkMessageType,
  NONCE_BYTES,
  decodeAcceptorProof,
  decodeDialerProof,
  decodeHello,
  encodeAcceptorProof,
  encodeDialerProof,
  encodeHello,
  readLinkHeader,
  writeFacts,
  type RegionFacts,
} from './linkFrames';

/** The least a link's transport must offer; a `ws` socket is adapted by wsLinkChannel.ts. */
export interface LinkChannel {
  /** Queues a frame; never calls the other side's listeners before returning (a socket does not). */
  send(frame: Uint8Array): void;
  /** Calls `listener` for every frame received; returns a function that stops it. */
  onFrame(listener: (frame: Uint8Array) => void): () => void;
  /** Calls `listener` once the channel is closed, by either side; returns a function that stops it. */
  onClose(listener: (code: number, reason: string) => void): () => void;
  /** Calls `listener` whenever the other side answered a heartbeat (channels that have one). */
  onHeartbeat?(listener: () => void): () => void;
  close(code: number, reason: string): void;
}

export type LinkRole = 'dialer' | 'acceptor';

/** This region, as it presents itself. */
export interface LinkSelf {
  region: string;
  secret: string;
  publicUrl?: string | undefined;
  storageId?: string | undefined;
}

export interface HandshakeOptions {
  log: Logger;
  /** Where the peer is, for log lines: the URL dialed, or the socket's remote address. */
  peerAddress: string;
  /** The whole handshake must finish within this; default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** A proven name for which the caller already holds a link is refused with 4492, like our own. */
  nameInUse?: (region: string) => boolean;
}

/** The verified peer. */
export interface LinkPeer {
  peerRegion: string;
  peerPublicUrl: string | undefined;
  peerStorageId: string | undefined;
  /**
   * Hands the link's later frames to `listener`, first those that arrived after the handshake
   * but before this call (`ws` can deliver several frames in one tick, before an `await` resumes).
   * Call it right away; returns a function that stops delivery.
   */
  onFrame(listener: (frame: Uint8Array) => void): () => void;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

/** The close reason sent with each refusal. */
export const LINK_CLOSE_REASONS = {
  [CloseCode.linkMalformed]: 'malformed link frame',
  [CloseCode.clusterAuthFailed]: 'cluster authentication failed',
  [CloseCode.regionNameInUse]: 'region name in use',
  [CloseCode.linkVersionMismatch]: 'link protocol version mismatch',
  [CloseCode.linkHandshakeTimeout]: 'handshake timeout',
} as const;

type RefusalCode = keyof typeof LINK_CLOSE_REASONS;

/** The handshake failed: `by: 'us'` when this side refused, `'peer'` when the other side closed. */
export class LinkRefusedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly by: 'us' | 'peer',
  ) {
    super(`cluster link ${by === 'us' ? 'refused' : 'closed by the peer'} during the handshake: ${code} ${reason}`);
    this.name = 'LinkRefusedError';
  }
}

/**
 * Runs the handshake as `role` over `channel`; resolves with the verified peer, or rejects with
 * LinkRefusedError (the channel is then closed). The caller sends nothing on the channel until
 * it resolves: before that, the other side is not verified.
 */
export function runHandshake(channel: LinkChannel, role: LinkRole, self: LinkSelf, options: HandshakeOptions): Promise<LinkPeer> {
  return new Handshake(channel, role, self, options).result;
}

/** Thrown inside a step; turned into a close with its code. */
class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Awaiting = 'awaitingHello' | 'awaitingDialerProof' | 'awaitingAcceptorProof';
type State = Awaiting | 'verified' | 'failed';

const EXPECTED_TYPE: Record<Awaiting, { type: number; what: string }> = {
  awaitingHello: { type: LinkMessageType.hello, what: 'hello' },
  awaitingDialerProof: { type: LinkMessageType.dialerProof, what: 'dialer proof' },
  awaitingAcceptorProof: { type: LinkMessageType.acceptorProof, what: 'acceptor proof' },
};

class Handshake {
  readonly result: Promise<LinkPeer>;
  private state: State;
  private resolve!: (peer: LinkPeer) => void;
  private reject!: (error: Error) => void;
  private readonly self: RegionFacts;
  private readonly secret: string;
  /** The name the peer claims, proven or not: for log lines. */
  private claimedRegion: string | undefined;
  private helloNonce: Uint8Array | undefined;
  private dialerNonce: Uint8Array | undefined;
  private dialerMac: Uint8Array | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly stopClose: () => void;
  /** Unset while the channel hands over the frames it held before we listened (which may end the handshake). */
  private stopFrames: (() => void) | undefined;
  /** After verification: frames held until the caller attaches, then the caller's listener. */
  private readonly early: Uint8Array[] = [];
  private listener: ((frame: Uint8Array) => void) | null = null;

  constructor(
    private readonly channel: LinkChannel,
    private readonly role: LinkRole,
    self: LinkSelf,
    private readonly options: HandshakeOptions,
  ) {
    this.self = { region: self.region, publicUrl: self.publicUrl, storageId: self.storageId };
    this.secret = self.secret;
    this.result = new Promise<LinkPeer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.state = role === 'acceptor' ? 'awaitingDialerProof' : 'awaitingHello';
    this.timer = setTimeout(() => this.refuse(new Refusal(CloseCode.linkHandshakeTimeout, `no handshake within ${this.timeoutMs} ms`)), this.timeoutMs);
    this.stopClose = channel.onClose((code, reason) => this.closedByPeer(code, reason));
    const stopFrames = channel.onFrame((frame) => this.receive(frame));
    if (this.hasFailed()) stopFrames();
    else this.stopFrames = stopFrames;
    if (role === 'acceptor') {
      this.helloNonce = randomBytes(NONCE_BYTES);
      this.guard(() => this.channel.send(encodeHello({ v: LINK_PROTOCOL_VERSION, nonce: this.helloNonce! })));
    }
  }

  private hasFailed(): boolean {
    return this.state === 'failed';
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  }

  private receive(frame: Uint8Array): void {
    const state = this.state;
    switch (state) {
      case 'verified':
        if (this.listener) this.listener(frame);
        else this.early.push(frame);
        return;
      case 'failed':
        return;
      case 'awaitingHello':
      case 'awaitingDialerProof':
      case 'awaitingAcceptorProof':
        this.guard(() => this.step(state, frame));
        return;
    }
  }

  private step(state: Awaiting, frame: Uint8Array): void {
    // The type comes first: the handshake's type numbers never change between versions, so a
    // frame of another type is garbage (4490), not a newer peer (4493).
    const { type, v } = readLinkHeader(frame);
    const expected = EXPECTED_TYPE[state];
    if (type !== expected.type) throw new MalformedFrameError(`expected a ${expected.what}, got a frame of type ${type}`);
    if (v !== LINK_PROTOCOL_VERSION) throw new Refusal(CloseCode.linkVersionMismatch, `peer speaks link protocol v${v}, this server v${LINK_PROTOCOL_VERSION}`);
    switch (state) {
      case 'awaitingHello': {
        const hello = decodeHello(frame) ?? unexpected('hello', type);
        this.helloNonce = hello.nonce;
        this.dialerNonce = randomBytes(NONCE_BYTES);
        this.dialerMac = this.mac(dialerMacInput(hello.nonce, this.dialerNonce, this.self));
        this.state = 'awaitingAcceptorProof';
        this.channel.send(encodeDialerProof({ v: LINK_PROTOCOL_VERSION, ...this.self, nonce: this.dialerNonce, mac: this.dialerMac }));
        return;
      }
      case 'awaitingDialerProof': {
        const proof = decodeDialerProof(frame) ?? unexpected('dialer proof', type);
        this.claimedRegion = proof.region;
        this.verify(proof.mac, dialerMacInput(this.helloNonce!, proof.nonce, proof));
        this.checkName(proof.region);
        const mac = this.mac(acceptorMacInput(proof.nonce, this.helloNonce!, proof.mac, this.self));
        this.channel.send(encodeAcceptorProof({ v: LINK_PROTOCOL_VERSION, ...this.self, mac }));
        this.succeed(proof);
        return;
      }
      case 'awaitingAcceptorProof': {
        const proof = decodeAcceptorProof(frame) ?? unexpected('acceptor proof', type);
        this.claimedRegion = proof.region;
        this.verify(proof.mac, acceptorMacInput(this.dialerNonce!, this.helloNonce!, this.dialerMac!, proof));
        this.checkName(proof.region);
        this.succeed(proof);
        return;
      }
    }
  }

  private mac(input: Uint8Array): Uint8Array {
    return createHmac('sha256', this.secret).update(input).digest();
  }

  private verify(mac: Uint8Array, input: Uint8Array): void {
    // Constant time, so response timing cannot reveal how much of a forged MAC was right.
    if (!timingSafeEqual(mac, this.mac(input))) throw new Refusal(CloseCode.clusterAuthFailed, 'MAC does not verify with this CLUSTER_SECRET');
  }

  /** Checked only after the MAC: a stranger learns nothing from which names we refuse. */
  private checkName(region: string): void {
    if (region === this.self.region) throw new Refusal(CloseCode.regionNameInUse, 'peer proved this region\'s own name');
    if (this.options.nameInUse?.(region)) throw new Refusal(CloseCode.regionNameInUse, 'a link with this region is already open');
  }

  private succeed(peer: RegionFacts): void {
    this.state = 'verified';
    clearTimeout(this.timer);
    this.stopClose();
    this.resolve({
      peerRegion: peer.region,
      peerPublicUrl: peer.publicUrl,
      peerStorageId: peer.storageId,
      onFrame: (listener) => this.attach(listener),
    });
  }

  private attach(listener: (frame: Uint8Array) => void): () => void {
    if (this.listener) throw new RangeError('a link has one frame listener');
    this.listener = listener;
    for (const frame of this.early.splice(0)) listener(frame);
    return () => {
      this.listener = null;
      this.stopFrames?.();
    };
  }

  /** Runs a step; a refusal or malformed frame closes with its code, anything else is our bug (1011). */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof Refusal) this.refuse(error);
      else if (error instanceof MalformedFrameError) this.refuse(new Refusal(CloseCode.linkMalformed, error.message));
      else this.fail(error);
    }
  }

  private refuse(refusal: Refusal): void {
    if (!this.end()) return;
    const reason = LINK_CLOSE_REASONS[refusal.code];
    this.options.log.warn(
      { peerRegion: this.claimedRegion, peerAddress: this.options.peerAddress, role: this.role, code: refusal.code, detail: refusal.detail },
      `cluster link refused: ${reason}`,
    );
    this.channel.close(refusal.code, reason);
    this.reject(new LinkRefusedError(refusal.code, reason, 'us'));
  }

  private closedByPeer(code: number, reason: string): void {
    if (!this.end()) return;
    this.options.log.warn(
      { peerRegion: this.claimedRegion, peerAddress: this.options.peerAddress, role: this.role, code, reason },
      'cluster link closed by the peer during the handshake',
    );
    this.reject(new LinkRefusedError(code, reason, 'peer'));
  }

  private fail(error: unknown): void {
    if (!this.end()) return;
    this.options.log.error({ err: error, peerRegion: this.claimedRegion, peerAddress: this.options.peerAddress, role: this.role }, 'cluster link handshake failed');
    this.channel.close(CloseCode.internalError, 'internal error');
    this.reject(error instanceof Error ? error : new Error(String(error)));
  }

  /** Moves to 'failed' once; false when the handshake had already ended. */
  private end(): boolean {
    if (this.state === 'verified' || this.state === 'failed') return false;
    this.state = 'failed';
    clearTimeout(this.timer);
    this.stopFrames?.();
    this.stopClose();
    return true;
  }
}

function unexpected(what: string, type: number): never {
  throw new MalformedFrameError(`expected a ${what}, got a frame of type ${type}`);
}

const MAC_LABEL = `concord/link/v${LINK_PROTOCOL_VERSION}`;

function dialerMacInput(helloNonce: Uint8Array, dialerNonce: Uint8Array, dialer: RegionFacts): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, MAC_LABEL);
  encoding.writeVarString(encoder, 'dialer');
  encoding.writeVarUint8Array(encoder, helloNonce);
  encoding.writeVarUint8Array(encoder, dialerNonce);
  writeFacts(encoder, dialer);
  return encoding.toUint8Array(encoder);
}

function acceptorMacInput(dialerNonce: Uint8Array, helloNonce: Uint8Array, dialerMac: Uint8Array, acceptor: RegionFacts): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, MAC_LABEL);
  encoding.writeVarString(encoder, 'acceptor');
  encoding.writeVarUint8Array(encoder, dialerNonce);
  encoding.writeVarUint8Array(encoder, helloNonce);
  encoding.writeVarUint8Array(encoder, dialerMac);
  writeFacts(encoder, acceptor);
  return encoding.toUint8Array(encoder);
}
