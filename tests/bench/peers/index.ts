/** Every server the benchmark compares, by the name `--server` selects. */
import { concordPeer } from './concord';
import { hocuspocusPeer } from './hocuspocus';
import type { Peer, PeerName } from './PeerServer';
import { rawRelayPeer } from './rawRelayPeer';
import { yWebsocketPeer } from './yWebsocket';

export const PEERS: Record<PeerName, Peer> = {
  concord: concordPeer(),
  'y-websocket': yWebsocketPeer,
  hocuspocus: hocuspocusPeer,
  'raw-relay': rawRelayPeer,
};
