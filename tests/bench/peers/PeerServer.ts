/** The servers the benchmark compares, behind one interface. */
import type { BenchDocument, Framing } from '../load/framing';

export type PeerName = 'concord' | 'y-websocket' | 'hocuspocus' | 'raw-relay' | 'concord-relay';

export interface PeerServer {
  readonly name: PeerName;
  /** The server's own node process: CPU and memory are read from /proc/<pid>. */
  readonly pid: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly framing: Framing;
  /** A new, empty document (with a capability where the server checks them). */
  newDocument(): BenchDocument;
  /** Upgrade headers for the n-th client of a run. */
  clientHeaders(n: number): Record<string, string>;
  /** The page that edits `doc` in a browser, for servers that serve an editor. */
  editorUrl?(doc: BenchDocument): string;
  /**
   * Stops the process (SIGKILL unless told otherwise; SIGTERM lets a server that handles it store
   * everything first) and removes files it made itself.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
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
  /** Whether SIGTERM makes it store everything before it exits (else wait until it is idle). */
  storesOnSigterm: boolean;
  /** Environment that lets one connection send as fast as it can (a bulk import), where a cap would stop it. */
  bulkImportEnv?: Record<string, string>;
  start(options?: PeerStartOptions): Promise<PeerServer>;
}
