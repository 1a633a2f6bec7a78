/** Hocuspocus (@hocuspocus/server), bare, in its own process (hocuspocusMain.ts). */
import { randomUUID } from 'node:crypto';
import { hocuspocusFraming } from '../load/framing';
import { jsonListeningPort, startChildServer } from './childServer';
import { plainNodeProgram } from './plainNode';
import { packageVersion } from './installedPackage';
import type { Peer, PeerServer, PeerStartOptions } from './PeerServer';

const version = packageVersion('@hocuspocus/server');

export const hocuspocusPeer: Peer = {
  name: 'hocuspocus',
  label: 'Hocuspocus',
  describe: `@hocuspocus/server ${version}, bare (no extensions, no hooks: in memory, no auth check)`,
  persists: false,
  storesOnSigterm: false,
  async start(options: PeerStartOptions = {}): Promise<PeerServer> {
    const server = await startChildServer({
      args: [plainNodeProgram('hocuspocusMain.ts')],
      env: { PORT: '0', ...options.env },
      listeningPort: jsonListeningPort,
    });
    return {
      name: 'hocuspocus',
      pid: server.pid,
      url: `http://127.0.0.1:${server.port}`,
      // One socket can carry many documents; the path is not used. One socket per client here.
      framing: hocuspocusFraming(() => `ws://127.0.0.1:${server.port}/`),
      newDocument: () => ({ name: randomUUID(), token: 'bench' }),
      clientHeaders: () => ({}),
      async stop(signal) {
        await server.stop(signal);
      },
    };
  },
};
