/**
 * The one place that decides, for a change of each origin, where it goes: into this server's
 * storage, to this server's clients, over the region links, to the other instances of this
 * region. Room.forward asks it for every completed change, and every room listener (a region
 * link, a bus between instances, the history recorder) is handed only what its destination takes,
 * so no feature re-decides it and nothing echoes back where it came from.
 */
import type { ChangeOrigin } from './origins';

/** Where a change can go from a room. */
export type Destination = 'storage' | 'clients' | 'regions' | 'instances' | 'history';

const ROUTES: Readonly<Record<ChangeOrigin['kind'], ReadonlySet<Destination>>> = {
  // A client's change, or the server's own (a restore, a repair): everywhere. Into this
  // server's version history too: the history recorder records the edits made here, and the
  // other instances and regions receive those versions through the history document.
  client: new Set(['storage', 'clients', 'regions', 'instances', 'history']),
  server: new Set(['storage', 'clients', 'regions', 'instances', 'history']),
  // From another region: stored and shown here, never sent on to third regions — the origin
  // region sends it to each of them itself (a change crosses the links at most R−1 times), and
  // its durable backlog covers a region it cannot reach yet.
  peer: new Set(['storage', 'clients', 'instances']),
  // From another instance of this region (server/instances): shown here and never published
  // again (the origin instance published it to every instance itself). Stored here too, though
  // the origin stores it: it publishes a change as it applies it and stores it up to 50 ms later,
  // so a SIGKILL in between would leave it only in memory, and this instance's "stored" acks
  // must never cover what storage lacks (a second copy is idempotent). To 'regions': one
  // instance of a region holds its region links (RegionLinkLease), so its clients' changes and
  // the other instances' reach the peers through it; an instance without links sends nothing.
  instance: new Set(['storage', 'clients', 'regions']),
  // Loaded from our own storage: already stored and already replicated from where it was made.
  storage: new Set(['clients']),
};

/**
 * A peer region's change that another instance of this region received over its link and
 * published on the bus: stored and shown here, never sent over the links again or published again.
 */
const FROM_PEER_REGION_VIA_INSTANCE: ReadonlySet<Destination> = new Set(['storage', 'clients']);

/** True when a change of `origin` goes to `destination`. */
export function routes(origin: ChangeOrigin, destination: Destination): boolean {
  if (origin.kind === 'instance' && origin.fromPeerRegion) return FROM_PEER_REGION_VIA_INSTANCE.has(destination);
  return ROUTES[origin.kind].has(destination);
}
