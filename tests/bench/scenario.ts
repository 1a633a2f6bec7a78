/**
 * The contract between tests/bench/run.ts and its scenarios (tests/bench/scenarios/*.ts). A new
 * scenario (a multi-client load generator, peer servers…) exports a Scenario and is added to the
 * registry in run.ts; run.ts prints its figures as a table and writes them to JSON.
 */

export interface Figure {
  name: string;
  value: number;
  unit: 'ms' | 'bytes' | 'count' | 'per_s';
  display: string;
}

export interface Scenario {
  /** What `--scenario <name>` selects. */
  name: string;
  /** One line printed before it runs. */
  description: string;
  /** Runs to completion, stopping every process and removing every file it started. */
  run(): Promise<Figure[]>;
}
