/**
 * Two in-process regions, east and west, each dialing the other through a TCP proxy the test
 * cuts for a real partition. The caller starts each server (its own options), given the region
 * options to pass; `track` receives what must be closed after the test.
 */
import type { RunningServer } from '../../server/startServer';
import type { ReplicatorOptions } from '../../server/replication/Replicator';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { TEST_CLUSTER_SECRET } from './regionProcesses';

export type RegionName = 'east' | 'west';

export interface TwoRegions {
  east: RunningServer;
  west: RunningServer;
  /** Both directions of the link. */
  proxies: TcpProxy[];
}

export async function startTwoRegions(
  start: (name: RegionName, region: ReplicatorOptions) => Promise<RunningServer>,
  track: (close: () => unknown) => void,
): Promise<TwoRegions> {
  const ports: Record<RegionName, number> = { east: 0, west: 0 };
  const toWest = await startTcpProxy(() => ports.west);
  const toEast = await startTcpProxy(() => ports.east);
  track(() => toWest.close());
  track(() => toEast.close());
  const region = (name: RegionName, peer: TcpProxy): ReplicatorOptions => ({ region: name, peers: [new URL(peer.url)], secret: TEST_CLUSTER_SECRET, catchUpIntervalMs: 200 });
  const east = await start('east', region('east', toWest));
  ports.east = east.port;
  const west = await start('west', region('west', toEast));
  ports.west = west.port;
  return { east, west, proxies: [toWest, toEast] };
}
