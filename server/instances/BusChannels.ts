/**
 * The names a region's instances share in Redis, all under one prefix (several regions or tests
 * may share one Redis): one channel per document, one for the instances themselves, and the
 * keys of the compaction leases.
 */
export class BusChannels {
  /** Prefix of every per-document channel (UnopenedDocumentFeed subscribes to the pattern). */
  readonly documentPrefix: string;
  /** The instances' own messages: alive, leaving. */
  readonly instances: string;
  /** Prefix of the compaction lease keys (CompactionLeases). */
  readonly compactionLeasePrefix: string;

  constructor(prefix = 'concord:') {
    this.documentPrefix = `${prefix}doc:`;
    this.instances = `${prefix}instances`;
    this.compactionLeasePrefix = `${prefix}compacting:`;
  }

  /** The channel of a document's changes, presence and access announcements. */
  document(docId: string): string {
    return `${this.documentPrefix}${docId}`;
  }

  /** The document a channel belongs to, or null when it is not a document's channel. */
  documentOf(channel: string): string | null {
    return channel.startsWith(this.documentPrefix) ? channel.slice(this.documentPrefix.length) : null;
  }
}
