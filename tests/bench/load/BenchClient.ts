/**
 * One load-generator client: a FramedSocket, and a record of every document update it receives
 * with its arrival time.
 *
 * Readers only record during the measured window (applying each update to a Y.Doc as it arrives
 * would make the load generator, not the server, the bottleneck: 500 readers × 50 updates/s).
 * `materialize()` then builds their replica from exactly what they received, and keeps it live.
 * Writers keep a live replica throughout, since they edit it.
 */
import * as Y from 'yjs';
import { encodeUpdateMessage } from '../../../lib/protocol/encode';
import type { BenchDocument, Framing } from './framing';
import { FramedSocket } from './FramedSocket';

/** The shared type every writer edits. */
export const BENCH_TEXT = 'bench';
/** Transaction origin of updates that came from the server (never sent back). */
const REMOTE = Symbol('remote');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz ';
/** Characters per operation of the `chunks` workload. */
export const CHUNK_LENGTH = 16;

/**
 * What one operation of a writer is: `characters` — one character at a random place (the original
 * load); `chunks` — 16 characters typed forward from the writer's own cursor (issue #14's harness:
 * a person typing a word or pasting a short phrase, where the next insert follows the last).
 */
export type Workload = 'characters' | 'chunks';

export interface ReceivedUpdate {
  /** performance.now() when the frame arrived. */
  at: number;
  update: Uint8Array;
}

export interface BenchClientOptions {
  framing: Framing;
  doc: BenchDocument;
  /** Keeps a live replica and may `write()`. */
  writer: boolean;
  /** What a writer's operation is (default `characters`). */
  workload?: Workload;
  headers?: Record<string, string>;
  /** Fault injection: silently discard the n-th document update received after `ready` (1-based). */
  dropNthUpdate?: number;
  /** Called on every frame received. */
  onFrame?: () => void;
}

export class BenchClient {
  readonly received: ReceivedUpdate[] = [];
  /** A writer's operations: when each was applied locally, indexed by the Yjs clock it starts at. */
  readonly appliedAt: number[] = [];
  /** Updates discarded on purpose (fault injection). */
  dropped = 0;
  readonly ready: Promise<void>;
  private readonly socket: FramedSocket;
  private replica: Y.Doc | null;
  private updatesSinceReady = 0;
  private isReady = false;
  /** The `chunks` writer's cursor: right after its last insert, wherever others typed since. */
  private cursor: Y.RelativePosition | null = null;
  /** The Yjs clock the operation being applied starts at (appliedAt's index). */
  private operationClock = 0;
  private operationCount = 0;

  constructor(private readonly options: BenchClientOptions) {
    this.replica = options.writer ? new Y.Doc() : null;
    this.replica?.on('update', this.onLocalUpdate);
    this.socket = new FramedSocket({
      framing: options.framing,
      doc: options.doc,
      headers: options.headers,
      state: () => this.replica,
      onUpdate: this.onUpdate,
      onFrame: options.onFrame,
    });
    this.ready = this.socket.ready.then(() => {
      this.isReady = true;
    });
    this.ready.catch(() => undefined); // Callers that never await it must not crash the process.
  }

  get setupMs(): number {
    return this.socket.setupMs;
  }

  get closedAfterReady(): number | null {
    return this.socket.closedAfterReady;
  }

  get isWriter(): boolean {
    return this.options.writer;
  }

  /** The Yjs client ID of this client's replica (writers, and readers once materialized). */
  /** A writer's own Yjs clock: what every replica must hold of it (a chunk advances it by 16). */
  get ownClock(): number {
    if (!this.replica) throw new RangeError('only writers have a clock of their own');
    return Y.getState(this.replica.store, this.replica.clientID);
  }

  /** Operations this writer applied (a chunk is one). */
  get operations(): number {
    return this.operationCount;
  }

  get clientId(): number {
    if (!this.replica) throw new RangeError('a reader has no replica before materialize()');
    return this.replica.clientID;
  }

  get documentName(): string {
    return this.options.doc.name;
  }

  /** One operation: a character typed at a random place in the shared text. */
  write(random: () => number): void {
    if (!this.options.writer || !this.replica) throw new RangeError('only writers write');
    const text = this.replica.getText(BENCH_TEXT);
    this.operationClock = Y.getState(this.replica.store, this.replica.clientID);
    if (this.options.workload !== 'chunks') {
      text.insert(Math.floor(random() * (text.length + 1)), LETTERS[Math.floor(random() * LETTERS.length)]!);
      return;
    }
    const at = this.cursor ? Y.createAbsolutePositionFromRelativePosition(this.cursor, this.replica)?.index : undefined;
    const index = at ?? Math.floor(random() * (text.length + 1));
    let chunk = '';
    for (let i = 0; i < CHUNK_LENGTH; i++) chunk += LETTERS[Math.floor(random() * LETTERS.length)]!;
    text.insert(index, chunk);
    this.cursor = Y.createRelativePositionFromTypeIndex(text, index + CHUNK_LENGTH);
  }

  /** The replica: a reader's is built from everything it has received, then kept live. */
  materialize(): Y.Doc {
    if (this.replica) return this.replica;
    const doc = new Y.Doc();
    doc.transact(() => {
      for (const { update } of this.received) Y.applyUpdate(doc, update, REMOTE);
    }, REMOTE);
    this.replica = doc;
    return doc;
  }

  close(): void {
    this.socket.close();
    this.replica?.destroy();
  }

  private readonly onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE) return;
    // Indexed by the operation's first clock: a chunk's other clocks stay holes (one latency per operation).
    this.appliedAt[this.operationClock] = performance.now();
    this.operationCount++;
    this.socket.send(encodeUpdateMessage(update));
  };

  private readonly onUpdate = (update: Uint8Array, at: number): void => {
    if (this.isReady && this.options.dropNthUpdate === ++this.updatesSinceReady) {
      this.dropped++;
      return;
    }
    this.received.push({ at, update });
    if (this.replica) Y.applyUpdate(this.replica, update, REMOTE);
  };
}
