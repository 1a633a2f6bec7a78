/** Every server the benchmark can compare, by the name `--server` selects. */
import { concordPeer } from './concord';
import { hocuspocusPeer } from './hocuspocus';
import type { Peer, PeerName } from './PeerServer';
import { rawRelayPeer } from './rawRelayPeer';
import { yWebsocketPeer } from './yWebsocket';

export const PEERS: Record<PeerName, Peer> = {
  concord: concordPeer({ web: true }),
  'y-websocket': yWebsocketPeer,
  hocuspocus: hocuspocusPeer,
  'raw-relay': rawRelayPeer,
  'concord-relay': concordPeer({ web: false }),
};

/**
 * What a plain `npm run bench` compares. `--server concord-relay` adds Concord without the web
 * app in its process (server/relayMain.ts), to see the relay's own footprint.
 */
export const DEFAULT_SERVERS: PeerName[] = ['concord', 'y-websocket', 'hocuspocus', 'raw-relay'];
