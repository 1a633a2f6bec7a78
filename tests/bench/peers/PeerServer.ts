/** The servers the benchmark compares, behind one interface. */
import type { BenchDocument, Framing } from '../load/framing';

export type PeerName = 'concord' | 'y-websocket' | 'hocuspocus' | 'raw-relay';

export interface PeerServer {
  readonly name: PeerName;
  /** The server's own node process: CPU and memory are read from /proc/<pid>. */
  readonly pid: number;
  readonly framing: Framing;
  /** A new, empty document (with a capability where the server checks them). */
  newDocument(): BenchDocument;
  /** Upgrade headers for the n-th client of a run. */
  clientHeaders(n: number): Record<string, string>;
  /** Stops the process and removes its files. */
  stop(): Promise<void>;
}

export interface PeerStartOptions {
  /** Keep documents in this directory (servers that can persist); the caller removes it. */
  dataDir?: string;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
}

export interface Peer {
  name: PeerName;
  /** For tables: "Concord", "y-websocket", … */
  label: string;
  /** What runs, in a few words, for the report. */
  describe: string;
  /** Whether documents survive a restart (so a cold load can be measured). */
  persists: boolean;
  start(options?: PeerStartOptions): Promise<PeerServer>;
}
