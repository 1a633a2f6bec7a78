/** The messages between ClientGroup (the benchmark) and clientGroupMain (a group's process). */
import type { BenchDocument } from '../load/framing';

export interface GroupSpec {
  wsUrl: string;
  doc: BenchDocument;
  clients: number;
  /** The first `writers` clients write. */
  writers: number;
  opsPerSecond: number;
  seed: number;
  /** This group's writers' place among every group's, so all writers of a run fire evenly spread. */
  slot: { index: number; of: number };
  /** For X-Forwarded-For: unique over every group of the run. */
  firstClientIndex: number;
}

export type GroupCommand =
  | { cmd: 'connect'; spec: GroupSpec }
  /** Epoch milliseconds. */
  | { cmd: 'write'; startAt: number; endAt: number }
  | { cmd: 'collect' }
  | { cmd: 'close' };

export interface ClientRecord {
  isWriter: boolean;
  clientId: number | null;
  /** Epoch milliseconds. */
  appliedAt: number[];
  received: { at: number; update: Uint8Array }[];
  state: Uint8Array | null;
  closedAfterReady: number | null;
}

export type GroupReply =
  | { type: 'connected'; writerIds: number[] }
  /** CPU and event-loop delay (ms) of the group's process while its writers wrote. */
  | { type: 'written'; operations: number; cpuMs: number; loopDelay: { p99: number; max: number } }
  | { type: 'records'; clients: ClientRecord[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };
