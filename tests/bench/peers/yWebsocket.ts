/**
 * The y-websocket reference server, @y/websocket-server 0.1.1, run as its README runs it: its own
 * bin (`HOST=… PORT=… y-websocket`), in memory unless given a directory for its LevelDB
 * persistence (YPERSISTENCE). It cannot listen on port 0 and say which port it got, so we pick one.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { yWebsocketFraming } from '../load/framing';
import { freePort, startChildServer } from './childServer';
import { packageDir, packageVersion } from './installedPackage';
import type { Peer, PeerServer, PeerStartOptions } from './PeerServer';

const SERVER_JS = path.join(packageDir('@y/websocket-server'), 'src', 'server.js');
const version = packageVersion('@y/websocket-server');

export const yWebsocketPeer: Peer = {
  name: 'y-websocket',
  label: 'y-websocket',
  describe: `@y/websocket-server ${version} (its bin; in memory, LevelDB via YPERSISTENCE for cold loads)`,
  persists: true,
  storesOnSigterm: false,
  async start(options: PeerStartOptions = {}): Promise<PeerServer> {
    const port = await freePort();
    const server = await startChildServer({
      args: [SERVER_JS],
      env: {
        HOST: '127.0.0.1',
        PORT: String(port),
        ...(options.dataDir ? { YPERSISTENCE: options.dataDir } : {}),
        ...options.env,
      },
      listeningPort: (line) => (line.startsWith('running at') ? port : null),
    });
    return {
      name: 'y-websocket',
      pid: server.pid,
      url: `http://127.0.0.1:${port}`,
      // The document is the URL path; the server checks nothing.
      framing: yWebsocketFraming((doc) => `ws://127.0.0.1:${port}/${doc.name}`),
      newDocument: () => ({ name: randomUUID(), token: null }),
      clientHeaders: () => ({}),
      async stop(signal) {
        await server.stop(signal);
      },
    };
  },
};
