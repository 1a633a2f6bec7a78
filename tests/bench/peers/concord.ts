/**
 * Concord as a deployment runs it: `npm start` is `node server/start.mjs`, the compiled server in
 * that process; we start the same file without npm in between, so the pid we measure is the
 * server's. Production web app and server bundle (each built first if stale), SQLite in a scratch
 * DATA_DIR, real capabilities, default caps.
 *
 * Caps: MAX_CONNECTIONS_PER_IP (200) counts connections per client address. A deployment sits
 * behind a proxy and sees each user's own address, so the bench sets TRUST_PROXY=true and gives
 * every client its own X-Forwarded-For, instead of raising the cap for one loopback address.
 */
import { mintDocument } from '../../../lib/auth/capabilities';
import { serverArgs } from '../../../server/serverCommand';
import { TempDirs } from '../../support/tempDirs';
import { yWebsocketFraming } from '../load/framing';
import { REPO_ROOT, jsonListeningPort, startChildServer } from './childServer';
import type { Peer, PeerName, PeerServer, PeerStartOptions } from './PeerServer';

/** A distinct private address per client, as a proxy in front of Concord would forward it. */
export function forwardedFor(n: number): Record<string, string> {
  return { 'X-Forwarded-For': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
}

export interface ConcordOptions {
  /** false: the relay-only entry point (server/relayMain.ts, compiled), for quick smoke tests. */
  web: boolean;
}

export function isConcord(name: PeerName): boolean {
  return name === 'concord' || name === 'concord-relay';
}

export function concordPeer({ web }: ConcordOptions = { web: true }): Peer {
  return {
    name: web ? 'concord' : 'concord-relay',
    label: web ? 'Concord' : 'Concord relay only',
    describe: web
      ? '`node server/start.mjs` (= npm start: compiled server), production web app, SQLite, default caps, TRUST_PROXY=true'
      : '`node server/start.mjs relayMain` (= npm run relay: relay and API only), SQLite, default caps, TRUST_PROXY=true',
    persists: true,
    storesOnSigterm: true,
    // MAX_MESSAGES_PER_SECOND (300 per connection) would rightly close a connection that sends
    // 259,778 messages at once; the automerge-paper build is a bulk import, not a typist.
    bulkImportEnv: { MAX_MESSAGES_PER_SECOND: '100000000' },
    async start(options: PeerStartOptions = {}): Promise<PeerServer> {
      const dirs = new TempDirs();
      const dataDir = options.dataDir ?? dirs.make('concord-bench-');
      try {
        const server = await startChildServer({
          args: serverArgs(REPO_ROOT, web ? 'main' : 'relayMain'),
          env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', TRUST_PROXY: 'true', ...options.env },
          listeningPort: jsonListeningPort,
        });
        return {
          name: web ? 'concord' : 'concord-relay',
          pid: server.pid,
          url: `http://127.0.0.1:${server.port}`,
          framing: yWebsocketFraming((doc) => `ws://127.0.0.1:${server.port}/ws/${doc.name}?token=${doc.token}`),
          newDocument() {
            const caps = mintDocument();
            return { name: caps.docId, token: caps.edit };
          },
          clientHeaders: forwardedFor,
          // Only the full server serves the editor page; relayMain has no web app.
          editorUrl: web ? (doc) => `http://127.0.0.1:${server.port}/d/${doc.name}#token=${doc.token}` : undefined,
          async stop(signal) {
            await server.stop(signal);
            dirs.removeAll();
          },
        };
      } catch (err) {
        dirs.removeAll();
        throw err;
      }
    },
  };
}
