/** What /healthz and /metrics show of the peer regions: link state, last contact, backlog and lag. */
import type { DocumentStore } from '../storage/DocumentStore';
import type { LinkTraffic } from './LinkTraffic';
import type { PeerLink } from './PeerLink';

/** What /healthz and /metrics show of one peer. */
export interface PeerStatus {
  region: string | null;
  url: string | null;
  state: 'up' | 'down';
  lastContact: string | null;
  /** Age of the oldest unconfirmed change for this peer, in seconds (0 when none). */
  lagSeconds: number;
  backlog: { documents: number; bytes: number };
  publicUrl: string | null;
}

/** What the replicator knows of its peers, read by describePeers. */
export interface PeerFacts {
  store: DocumentStore;
  /** One per PEERS URL, with the region it proved (null until it linked once). */
  dialed: Iterable<{ region: string | null; url: URL }>;
  /** Every peer region this storage has linked with (some may only have dialed us). */
  known: readonly string[];
  link(region: string): PeerLink | undefined;
  traffic(region: string): LinkTraffic | undefined;
  publicUrl(region: string): string | null;
}

/** Each PEERS URL in order, then the known peers no URL led to. */
export async function describePeers(facts: PeerFacts): Promise<PeerStatus[]> {
  const out: PeerStatus[] = [];
  const seen = new Set<string>();
  for (const { region, url } of facts.dialed) {
    if (region) seen.add(region);
    out.push(await describePeer(facts, region, url.toString()));
  }
  for (const region of facts.known) if (!seen.has(region)) out.push(await describePeer(facts, region, null));
  return out;
}

async function describePeer(facts: PeerFacts, region: string | null, url: string | null): Promise<PeerStatus> {
  const link = region ? facts.link(region) : undefined;
  const lastContact = region ? facts.traffic(region)?.lastContact : undefined;
  const stats = region ? await facts.store.backlogStats(region) : { documents: 0, bytes: 0, oldestSince: null };
  return {
    region,
    url,
    state: link && !link.isClosed ? 'up' : 'down',
    // Kept per peer, not per link: while a link is down is when its last contact matters.
    lastContact: lastContact ? new Date(lastContact).toISOString() : null,
    lagSeconds: stats.oldestSince === null ? 0 : Math.max(0, (Date.now() - stats.oldestSince) / 1000),
    backlog: { documents: stats.documents, bytes: stats.bytes },
    publicUrl: region ? facts.publicUrl(region) : null,
  };
}
