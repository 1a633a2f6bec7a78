/**
 * Decides when an update may enter a room's document, for clients and peer regions alike: now
 * (it can be integrated whole), or later — kept outside the document until what it needs arrives
 * (see updateGuard: Yjs would keep it inside as pending data). For clients it also enforces
 * client-id ownership: new history for a client id that another replica claimed
 * (ClaimedClientIds), or that another open connection writes, waits until that owner has sent
 * those clocks itself — or, for an unclaimed id, has left (a forged id would otherwise take clocks
 * its owner is about to use, and the owner's real edits there would be dropped as known).
 */
import * as Y from 'yjs';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { ConnectionError } from './errors';
import type { ChangeOrigin } from './origins';
import { checkUpdate, type ClientWrites, type NeededClock, type ServerOnlyRoot } from './updateGuard';

export interface AdmissionLimits {
  /** Bytes one client connection (or peer region) may have waiting. */
  maxPendingBytes: number;
  /** Updates one client connection (or peer region) may have waiting. */
  maxWaitingUpdates: number;
}

interface Waiting {
  entries: { update: Uint8Array; needs: NeededClock; contested: boolean }[];
  bytes: number;
  /** Clients only: ownership and caps apply. */
  client: boolean;
  /** Marks sent after these updates, answered once they are applied. */
  marks: number[];
}

/** Who may write a claimed client id (ClaimedClientIds). */
export interface ClaimedIds {
  /** True: `origin` proved the claim; false: someone else claimed the id; undefined: nobody did. */
  mayWrite(origin: ChangeOrigin, clientId: number): boolean | undefined;
  /** The root clients may not write (updateGuard refuses it in their updates). */
  readonly serverOnly: ServerOnlyRoot;
}

export interface RetryHandlers {
  /** Applies an admitted update; false stops the retry (the room failed a change). */
  apply(origin: ChangeOrigin, update: Uint8Array, writes: ClientWrites): boolean;
  /** A waiting update turned out malformed once what it refers to arrived; it is dropped. */
  invalid(origin: ChangeOrigin, err: unknown): void;
  /** Everything `origin` had waiting is applied: answer its marks. */
  drained(origin: ChangeOrigin, marks: number[]): void;
}

export class UpdateAdmission {
  private readonly waiting = new Map<ChangeOrigin, Waiting>();
  private readonly writers = new Map<number, ChangeOrigin>();
  private readonly ownedBy = new Map<ChangeOrigin, number[]>();
  /** Times a peer region's waiting updates went over the limits and were dropped. */
  peerOverflows = 0;

  constructor(
    private readonly doc: Y.Doc,
    private readonly limits: AdmissionLimits,
    private readonly onWaiting: () => void,
    private readonly claimed: ClaimedIds,
  ) {}

  /**
   * The writes of an update that may be applied now, or null when it was kept to wait. Throws
   * ProtocolError for a malformed update, ConnectionError 4415 when a client's waiting cap is hit.
   */
  admit(origin: ChangeOrigin, update: Uint8Array, client: boolean): ClientWrites | null {
    const readiness = checkUpdate(this.doc, update, client ? this.claimed.serverOnly : undefined);
    if (!readiness.complete) {
      this.keep(origin, update, readiness.needs, false, client);
      return null;
    }
    const contested = client ? this.contestedWrite(origin, readiness.writes) : null;
    if (contested !== null) {
      this.keep(origin, update, contested, true, client);
      return null;
    }
    return readiness.writes;
  }

  /** A Yjs client id `origin` writes (the first it owned), if it owned any. */
  clientOf(origin: ChangeOrigin): number | undefined {
    return this.ownedBy.get(origin)?.[0];
  }

  /**
   * After `origin`'s update was applied, or its claim proved: the first open connection to write
   * an unclaimed client id owns it while it stays.
   */
  claim(origin: ChangeOrigin, writes: ClientWrites): void {
    for (const clientId of writes.keys()) this.own(origin, clientId);
  }

  /** `origin` owns `clientId` while it stays, unless an open connection already does. */
  own(origin: ChangeOrigin, clientId: number): void {
    if (this.writers.has(clientId)) return;
    this.writers.set(clientId, origin);
    let owned = this.ownedBy.get(origin);
    if (!owned) this.ownedBy.set(origin, (owned = []));
    owned.push(clientId);
  }

  /** True when an open connection other than `origin` writes `clientId` (owns it unclaimed). */
  writtenByOther(origin: ChangeOrigin, clientId: number): boolean {
    const owner = this.writers.get(clientId);
    return owner !== undefined && owner !== origin;
  }

  /** Queues a mark behind `origin`'s waiting updates; false when nothing waits (answer it now). */
  queueMark(origin: ChangeOrigin, id: number): boolean {
    const waiting = this.waiting.get(origin);
    if (!waiting) return false;
    waiting.marks.push(id);
    return true;
  }

  /** `origin` left: its waiting updates go (it sends them again), its client ids are free. Returns true if it owned any. */
  forget(origin: ChangeOrigin): boolean {
    this.waiting.delete(origin);
    const owned = this.ownedBy.get(origin);
    if (!owned) return false;
    this.ownedBy.delete(origin);
    for (const clientId of owned) this.writers.delete(clientId);
    return true;
  }

  /**
   * Applies every waiting update that can now be integrated whole, until none can. Entries are
   * checked again only once what they waited for has arrived (a clock comparison), or, when
   * `ownersLeft`, if they waited on an owner.
   */
  retry(handlers: RetryHandlers, ownersLeft = false): void {
    let progress = true;
    while (progress && this.waiting.size > 0) {
      progress = false;
      for (const [origin, waiting] of this.waiting) {
        for (let i = 0; i < waiting.entries.length; i++) {
          const entry = waiting.entries[i]!;
          if (Y.getState(this.doc.store, entry.needs.client) <= entry.needs.clock && !(ownersLeft && entry.contested)) continue;
          let readiness: ReturnType<typeof checkUpdate>;
          try {
            readiness = checkUpdate(this.doc, entry.update, waiting.client ? this.claimed.serverOnly : undefined);
          } catch (err) {
            this.waiting.delete(origin);
            handlers.invalid(origin, err);
            break;
          }
          if (!readiness.complete) {
            entry.needs = readiness.needs;
            entry.contested = false;
            continue;
          }
          const contested = waiting.client ? this.contestedWrite(origin, readiness.writes) : null;
          if (contested !== null) {
            entry.needs = contested;
            entry.contested = true;
            continue;
          }
          waiting.entries.splice(i--, 1);
          waiting.bytes -= entry.update.byteLength;
          if (!handlers.apply(origin, entry.update, readiness.writes)) return;
          if (waiting.client) this.claim(origin, readiness.writes);
          progress = true;
        }
        if (waiting.entries.length === 0 && this.waiting.get(origin) === waiting) {
          this.waiting.delete(origin);
          handlers.drained(origin, waiting.marks);
        }
      }
    }
  }

  private contestedWrite(origin: ChangeOrigin, writes: ClientWrites): NeededClock | null {
    for (const [clientId, reaches] of writes) {
      const mayWrite = this.claimed.mayWrite(origin, clientId);
      if (mayWrite === true) continue;
      if (mayWrite === false || this.writtenByOther(origin, clientId)) return { client: clientId, clock: reaches - 1 };
    }
    return null;
  }

  private keep(origin: ChangeOrigin, update: Uint8Array, needs: NeededClock, contested: boolean, client: boolean): void {
    let waiting = this.waiting.get(origin);
    if (!waiting) this.waiting.set(origin, (waiting = { entries: [], bytes: 0, client, marks: [] }));
    waiting.entries.push({ update, needs, contested });
    waiting.bytes += update.byteLength;
    this.onWaiting();
    if (waiting.bytes <= this.limits.maxPendingBytes && waiting.entries.length <= this.limits.maxWaitingUpdates) return;
    this.waiting.delete(origin);
    if (client) throw new ConnectionError(CloseCode.tooMuchPendingData, 'too much update data with missing dependencies');
    // A peer region whose live updates skipped a gap (it drops live frames when its link is
    // congested): nothing is lost, since its catch-up sends whatever this room still lacks.
    this.peerOverflows++;
  }
}
