/**
 * The peer regions this region's storage has linked with, and the storage id each had: every
 * change stored here is marked dirty for each of them (the durable backlog). A peer never linked
 * with before, or seen with another storage id (its data was lost), gets every document marked
 * once, so a region restarted empty is rebuilt by its peers. The list lives in storage, so a
 * restart does not compare everything again.
 *
 * Several instances of a region (`refreshMs`): each reads the list from storage that often, and a
 * first contact records the peer as pending, waits until every instance has read it (so each
 * marks its own changes for it), and only then marks every document — a change stored in between
 * would otherwise be marked by neither. A pending peer (storage id '') is compared in full again
 * after a restart.
 */
import type { Logger } from 'pino';
import type { DocumentStore } from '../storage/DocumentStore';

export class KnownPeers {
  private known = new Map<string, string | undefined>();
  /**
   * Peers whose full comparison is complete, with the storage id it was for. Apart from `known`:
   * a first contact whose marking failed (storage down) is known — changes are marked for it —
   * but not settled, so the next link marks every document again.
   */
  private settled = new Map<string, string | undefined>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly refreshMs?: number,
  ) {}

  async start(): Promise<void> {
    this.known = await this.store.knownPeers();
    this.settled = new Map(this.known);
    if (this.refreshMs === undefined) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Every peer region a change is marked dirty for. */
  names(): string[] {
    return Array.from(this.known.keys());
  }

  /**
   * After a verified handshake with `region`: when it is new (or its storage was replaced), marks
   * every document dirty for it and remembers it. Resolves once that is done; rejects when
   * storage failed, and then the next call does it all again.
   */
  async linked(region: string, storageId: string | undefined): Promise<void> {
    if (this.settled.has(region) && this.settled.get(region) === storageId) return;
    // Known first, so every change from now on marks it dirty; remembered last, once the backlog is complete.
    this.known.set(region, storageId);
    if (this.refreshMs !== undefined) {
      await this.store.rememberPeer(region, '');
      await new Promise((resolve) => setTimeout(resolve, 2.5 * this.refreshMs!));
    }
    const marked = await this.store.markAllDirty(region);
    this.log.info({ peer: region, documents: marked }, 'catching up every document with a peer region');
    if (storageId !== undefined) await this.store.rememberPeer(region, storageId);
    this.settled.set(region, storageId);
  }

  /** Peer regions another instance of this region linked with first. */
  private async refresh(): Promise<void> {
    try {
      for (const [region, storageId] of await this.store.knownPeers()) {
        if (!this.known.has(region)) this.known.set(region, storageId);
        // Another instance completed its full comparison ('' while that is still under way).
        if (storageId !== '' && !this.settled.has(region)) this.settled.set(region, storageId);
      }
    } catch (err) {
      this.log.warn({ err }, 'could not read the peer regions known to storage');
    }
  }
}
