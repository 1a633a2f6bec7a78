/**
 * Catch-up passes over a peer's durable backlog (issue #12): for each document the peer has not
 * confirmed, ask what its storage holds; clear the mark once that covers what we held when we
 * asked, otherwise send what it lacks. One pass per peer at a time, reading the backlog a page at
 * a time, `concurrency` documents held at once (a document is let go as soon as what the peer
 * lacked is sent; its confirmation is awaited holding only its state), waiting while the link is
 * full, so memory stays bounded and live traffic never queues behind it.
 */
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { sameAccess, type AccessState } from '../../lib/auth/capabilities';
import { equalBytes } from '../../lib/protocol/documentDigest';
import type { BacklogEntry, DocumentStore } from '../storage/DocumentStore';
import type { PeerLink } from './PeerLink';
import { covers, decodeState, stateVectorOf } from './stateCoverage';

/** What this region holds of a document (state and digest are stateCoverage's and the digest's). */
export interface HeldDocument {
  access: AccessState;
  doc: Y.Doc | null;
  state: Uint8Array;
  digest: Uint8Array;
  release(): void;
}

export interface CatchUpDeps {
  store: DocumentStore;
  log: Logger;
  /** Opens (or reads) a document for comparison; release() lets it go. */
  hold(docId: string): Promise<HeldDocument>;
  /** Merges a peer's access into ours (and acts on a rotation or deletion); returns the merge. */
  mergeAccess(link: PeerLink, docId: string, incoming: AccessState): Promise<AccessState>;
}

export interface CatchUpOptions {
  /** Documents compared with a peer at once (each waits a round trip; a far peer needs many). */
  concurrency?: number;
  /** Waits while a link holds more than this unsent. */
  maxBufferedBytes?: number;
}

const STATE_TIMEOUT_MS = 15_000;
const BACKLOG_PAGE = 100;
const DEFAULT_CONCURRENCY = 32;
/** Outstanding second questions (after a resend) per comparison slot. */
const CONFIRMATIONS_PER_COMPARISON = 4;

export class CatchUp {
  private readonly passes = new Map<string, Promise<void>>();
  /** Documents a peer was found lacking something in its last pass ("region\0docId"). */
  private readonly gapsSeen = new Set<string>();
  /** Passes finished, per peer (tests wait on these rather than on time). */
  readonly passesCompleted = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly deps: CatchUpDeps,
    private readonly options: CatchUpOptions = {},
  ) {}

  /** Runs one pass over the peer's backlog unless one is running. */
  run(link: PeerLink): void {
    if (this.passes.has(link.region) || this.stopped) return;
    const pass = this.runPass(link)
      .catch((err: unknown) => this.deps.log.error({ err, peer: link.region }, 'catch-up pass failed'))
      .finally(() => {
        this.passes.delete(link.region);
        this.passesCompleted.set(link.region, (this.passesCompleted.get(link.region) ?? 0) + 1);
      });
    this.passes.set(link.region, pass);
  }

  /** The link to `region` is gone: what it was found lacking no longer says anything. */
  forget(region: string): void {
    for (const key of this.gapsSeen) if (key.startsWith(`${region}\u0000`)) this.gapsSeen.delete(key);
  }

  /** No new passes; resolves once the running ones ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.passes.values());
  }

  private async runPass(link: PeerLink): Promise<void> {
    const limit = this.options.concurrency ?? DEFAULT_CONCURRENCY;
    const maxBuffered = this.options.maxBufferedBytes ?? 8 * 1024 * 1024;
    const entries = this.backlog(link);
    // Re-asks after a resend: each holds only a state, not a document, so more may be in flight.
    const confirming = new Set<Promise<void>>();
    const maxConfirming = limit * CONFIRMATIONS_PER_COMPARISON;
    // A window of `limit` comparisons in flight, each starting as another ends, across pages (not
    // batches that wait for their slowest): over a far link the pass takes round trips ÷ limit.
    const worker = async () => {
      while (!link.isClosed) {
        const next = await entries.next();
        if (next.done) return;
        // Bounded memory and no stall of live traffic: wait while the socket is full.
        while (link.buffered > maxBuffered && !link.isClosed) await new Promise((resolve) => setTimeout(resolve, 20));
        if (link.isClosed) return;
        const compared = await this.compare(link, next.value);
        if (!compared) continue;
        const confirmation = compared.confirmed;
        confirming.add(confirmation);
        void confirmation.finally(() => confirming.delete(confirmation));
        while (confirming.size >= maxConfirming) await Promise.race(confirming);
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    await Promise.all(confirming);
  }

  /** The peer's backlog in document order, a page at a time (read as the pass gets there). */
  private async *backlog(link: PeerLink): AsyncGenerator<BacklogEntry> {
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.listBacklog(link.region, BACKLOG_PAGE, after);
      if (page.length === 0 || link.isClosed) return;
      after = page[page.length - 1]!.docId;
      yield* page;
      if (page.length < BACKLOG_PAGE) return;
    }
  }

  /**
   * Compares one document with the peer; clears the backlog mark once the peer's storage holds
   * everything we held when we asked (it may hold more: its own clients' edits). After sending
   * what the peer lacked, the document is let go and the answer to the second question is
   * awaited by the returned `confirmed` (null: nothing more to wait for; it never rejects).
   */
  private async compare(link: PeerLink, { docId, mark, since }: BacklogEntry): Promise<{ confirmed: Promise<void> } | null> {
    const askedAt = Date.now();
    const key = `${link.region}\u0000${docId}`;
    const ours = await this.deps.hold(docId);
    try {
      const reply = await link.askState({ docId, access: ours.access, state: ours.state, digest: ours.digest }, STATE_TIMEOUT_MS);
      if (reply === null) return null;
      const merged = await this.deps.mergeAccess(link, docId, reply.access);
      if (merged.deleted) {
        if (reply.access.deleted) await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
        return null;
      }
      if (!ours.doc) return null;
      const theirs = decodeState(reply.state);
      if (covers(theirs, decodeState(ours.state)) && sameAccess(reply.access, merged)) {
        this.gapsSeen.delete(key);
        if (equalBytes(reply.state, ours.state) && !equalBytes(reply.digest, ours.digest)) {
          // Same history, different content: a split no resend can mend (issue #15); say so loudly.
          this.deps.log.error({ peer: link.region, docId }, 'regions hold the same history with different content (split)');
        }
        await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
        return null;
      }
      // The peer lacks something (content, or deletions a state vector cannot show). If every
      // unconfirmed change was made while this link was up, what it lacks is most likely still in
      // flight — sent live by us, or by the region it came from — so give it one pass to arrive
      // before sending it again (a change then crosses the links R−1 times, not more). Otherwise,
      // or if the gap is still there a pass later, send what it lacks relative to its state
      // vector, with our whole delete set; the next pass confirms.
      if (since > link.openedAt && !this.gapsSeen.has(key)) {
        this.gapsSeen.add(key);
        return null;
      }
      this.gapsSeen.delete(key);
      link.send({ type: 'update', docId, update: Y.encodeStateAsUpdate(ours.doc, stateVectorOf(theirs)) });
      // Ask again at once: the peer handles a document's messages in order, so its answer comes
      // after it applied and stored what we just sent, and the mark clears in this pass.
      const state = ours.state;
      const again = link.askState({ docId, access: merged, state, digest: ours.digest }, STATE_TIMEOUT_MS);
      const confirmed = (async () => {
        const answer = await again;
        if (answer && covers(decodeState(answer.state), decodeState(state)) && sameAccess(answer.access, merged)) {
          await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
        }
      })().catch((err: unknown) => this.deps.log.warn({ err, peer: link.region, docId }, 'could not clear a confirmed backlog mark; the next pass asks again'));
      return { confirmed };
    } finally {
      ours.release();
    }
  }
}
