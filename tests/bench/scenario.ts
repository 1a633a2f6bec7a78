/**
 * The contract between tests/bench/run.ts and its scenarios (tests/bench/scenarios/*.ts). A
 * scenario is registered in run.ts; run.ts prints what it returns as tables and writes it to JSON.
 */
import type { PeerName } from './peers/PeerServer';

export type Unit = 'ms' | 'us' | 'bytes' | 'count' | 'per_s';

/** One measured value, for scenarios that measure Concord alone. */
export interface Figure {
  name: string;
  value: number;
  unit: Unit;
  display: string;
}

/** One server's value of one measure: the median of its runs, or null with a note when it does not apply. */
export interface Cell {
  median: number | null;
  runs: number[];
  note?: string;
}

/** One measure across the compared servers. */
export interface ComparisonRow {
  measure: string;
  unit: Unit;
  /** Lower is better (latency, CPU, memory) or higher (throughput). */
  better: 'lower' | 'higher';
  cells: Partial<Record<PeerName, Cell>>;
}

export interface ScenarioResult {
  /** Concord-only measures. */
  figures?: Figure[];
  /** Measures compared across servers (medians of runs). */
  rows?: ComparisonRow[];
  /** Lines printed under the tables: what ran, caveats. */
  notes?: string[];
  /** Anything that makes the run fail (replicas that differ, a server that died); empty = passed. */
  failures: string[];
}

export interface BenchOptions {
  /** Servers to compare, in table order. */
  servers: PeerName[];
  /** Runs per cell; each cell's figure is the median. */
  runs: number;
  /** Length of each measured window of the load scenarios. */
  seconds: number;
  /** Frames of the hostile-edits scenario, when not its default (`--frames`). */
  frames?: number;
  log(line: string): void;
}

export interface Scenario {
  /** What `--scenario <name>` selects. */
  name: string;
  /** One line printed before it runs. */
  description: string;
  /** Runs to completion, stopping every process and removing every file it started. */
  run(options: BenchOptions): Promise<ScenarioResult>;
}
