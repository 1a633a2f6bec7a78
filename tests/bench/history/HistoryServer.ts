/**
 * Starts historyServerMain.ts as a child process and presents it as a PeerServer, so the paper
 * helpers (timeFullSync, ReceivedDocument) drive it like any compared server.
 */
import path from 'node:path';
import { mintDocument, type DocumentCapabilities } from '../../../lib/auth/capabilities';
import type { HistoryRecorderOptions } from '../../../server/history/HistoryRecorder';
import { yWebsocketFraming, type BenchDocument } from '../load/framing';
import { REPO_ROOT, jsonListeningPort, startChildServer } from '../peers/childServer';
import { forwardedFor } from '../peers/concord';
import type { PeerServer } from '../peers/PeerServer';

const MAIN = path.join(REPO_ROOT, 'tests', 'bench', 'history', 'historyServerMain.ts');

export interface HistoryServerConfig {
  dataDir: string;
  /** startServer's `history`: recorder options, or false for no version history at all. */
  history: Partial<Omit<HistoryRecorderOptions, 'now'>> | false;
}

/** The paper's document with every link, so the versions API can be called with a view link. */
export function benchDocument(): { caps: DocumentCapabilities; doc: BenchDocument } {
  const caps = mintDocument();
  return { caps, doc: { name: caps.docId, token: caps.edit } };
}

export interface HistoryServer extends PeerServer {
  /** The server's last log lines, for a failure's message. */
  lastLines(n: number): string;
}

export async function startHistoryServer(config: HistoryServerConfig, doc: BenchDocument): Promise<HistoryServer> {
  const server = await startChildServer({
    // tsx, as the benchmark itself runs: the same server source whether history is on or off.
    args: ['--import', 'tsx', MAIN],
    env: { BENCH_HISTORY_SERVER: JSON.stringify(config) },
    listeningPort: jsonListeningPort,
    timeoutMs: 60_000,
  });
  return {
    name: 'concord-relay',
    pid: server.pid,
    url: `http://127.0.0.1:${server.port}`,
    framing: yWebsocketFraming((d) => `ws://127.0.0.1:${server.port}/ws/${d.name}?token=${d.token}`),
    newDocument: () => doc,
    clientHeaders: forwardedFor,
    lastLines: (n) => server.output.slice(-n).join('\n'),
    async stop(signal) {
      await server.stop(signal);
    },
  };
}
