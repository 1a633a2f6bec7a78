/** The raw relay (rawRelay.ts) in its own process. */
import { randomUUID } from 'node:crypto';
import { yWebsocketFraming } from '../load/framing';
import { jsonListeningPort, startChildServer } from './childServer';
import { plainNodeProgram } from './plainNode';
import type { Peer, PeerServer, PeerStartOptions } from './PeerServer';

export const rawRelayPeer: Peer = {
  name: 'raw-relay',
  label: 'raw relay',
  describe: 'tests/bench/peers/rawRelay.ts on `ws`: forwards each frame to the other sockets on its path, parses nothing',
  persists: false,
  storesOnSigterm: false,
  async start(options: PeerStartOptions = {}): Promise<PeerServer> {
    const server = await startChildServer({
      args: [plainNodeProgram('rawRelay.ts')],
      env: { PORT: '0', ...options.env },
      listeningPort: jsonListeningPort,
    });
    return {
      name: 'raw-relay',
      pid: server.pid,
      url: `http://127.0.0.1:${server.port}`,
      // Nothing answers a sync step 1 here: clients are ready when their socket opens.
      framing: yWebsocketFraming((doc) => `ws://127.0.0.1:${server.port}/${doc.name}`, false),
      newDocument: () => ({ name: randomUUID(), token: null }),
      clientHeaders: () => ({}),
      async stop(signal) {
        await server.stop(signal);
      },
    };
  },
};
