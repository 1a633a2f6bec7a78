/**
 * Catch-up passes over a peer's durable backlog (issue #12): for each document the peer has not
 * confirmed, ask what its storage holds; clear the mark once that covers what we held when we
 * asked, otherwise send what it lacks. One pass per peer at a time, paged, a few documents at
 * once, waiting while the link is full, so memory stays bounded and live traffic never queues
 * behind it.
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
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.listBacklog(link.region, BACKLOG_PAGE, after);
      if (page.length === 0 || link.isClosed) return;
      after = page[page.length - 1]!.docId;
      // A window of `limit` comparisons in flight, each starting as another ends (not batches
      // that wait for their slowest): over a far link the pass takes round trips ÷ limit.
      let next = 0;
      const worker = async () => {
        while (next < page.length && !link.isClosed) {
          const entry = page[next++]!;
          // Bounded memory and no stall of live traffic: wait while the socket is full.
          while (link.buffered > maxBuffered && !link.isClosed) await new Promise((resolve) => setTimeout(resolve, 20));
          if (!link.isClosed) await this.confirm(link, entry);
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, page.length) }, worker));
      if (link.isClosed || page.length < BACKLOG_PAGE) return;
    }
  }

  /**
   * Compares one document with the peer; clears the backlog mark once the peer's storage holds
   * everything we held when we asked (it may hold more: its own clients' edits).
   */
  private async confirm(link: PeerLink, { docId, mark, since }: BacklogEntry): Promise<void> {
    const askedAt = Date.now();
    const key = `${link.region}\u0000${docId}`;
    const ours = await this.deps.hold(docId);
    try {
      const reply = await link.askState({ docId, access: ours.access, state: ours.state, digest: ours.digest }, STATE_TIMEOUT_MS);
      if (reply === null) return;
      const merged = await this.deps.mergeAccess(link, docId, reply.access);
      if (merged.deleted) {
        if (reply.access.deleted) await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
        return;
      }
      if (!ours.doc) return;
      const theirs = decodeState(reply.state);
      if (covers(theirs, decodeState(ours.state)) && sameAccess(reply.access, merged)) {
        this.gapsSeen.delete(key);
        if (equalBytes(reply.state, ours.state) && !equalBytes(reply.digest, ours.digest)) {
          // Same history, different content: a split no resend can mend (issue #15); say so loudly.
          this.deps.log.error({ peer: link.region, docId }, 'regions hold the same history with different content (split)');
        }
        await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
        return;
      }
      // The peer lacks something (content, or deletions a state vector cannot show). If every
      // unconfirmed change was made while this link was up, what it lacks is most likely still in
      // flight — sent live by us, or by the region it came from — so give it one pass to arrive
      // before sending it again (a change then crosses the links R−1 times, not more). Otherwise,
      // or if the gap is still there a pass later, send what it lacks relative to its state
      // vector, with our whole delete set; the next pass confirms.
      if (since > link.openedAt && !this.gapsSeen.has(key)) {
        this.gapsSeen.add(key);
        return;
      }
      this.gapsSeen.delete(key);
      link.send({ type: 'update', docId, update: Y.encodeStateAsUpdate(ours.doc, stateVectorOf(theirs)) });
      // Ask again at once: the peer handles a document's messages in order, so its answer comes
      // after it applied and stored what we just sent, and the mark clears in this pass.
      const again = await link.askState({ docId, access: merged, state: ours.state, digest: ours.digest }, STATE_TIMEOUT_MS);
      if (again && covers(decodeState(again.state), decodeState(ours.state)) && sameAccess(again.access, merged)) {
        await this.deps.store.clearBacklog(link.region, docId, mark, askedAt);
      }
    } finally {
      ours.release();
    }
  }
}
