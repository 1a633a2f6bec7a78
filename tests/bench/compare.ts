/** Runs a measurement on every compared server, several times, and folds the runs into table cells. */
import { PEERS } from './peers';
import type { Peer, PeerName } from './peers/PeerServer';
import type { BenchOptions, Cell, ComparisonRow, Unit } from './scenario';
import { median } from './stats';

/** Each server's runs, in order; a run that threw is kept as its Error. */
export type RunsByServer<T> = Map<PeerName, (T | Error)[]>;

/**
 * `measure` once per server per run. Runs are interleaved (run 1 of every server, then run 2…)
 * so that a slow spell of the shared machine does not land on one server only.
 */
export async function acrossServers<T>(options: BenchOptions, measure: (peer: Peer, run: number) => Promise<T>): Promise<RunsByServer<T>> {
  const results: RunsByServer<T> = new Map(options.servers.map((name) => [name, []]));
  for (let run = 1; run <= options.runs; run++) {
    for (const name of options.servers) {
      try {
        results.get(name)!.push(await measure(PEERS[name], run));
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        options.log(`  ${name} run ${run} failed: ${error.message}`);
        results.get(name)!.push(error);
      }
    }
  }
  return results;
}

/** A table row: each server's median of `pick` over its successful runs (`pick` may return null: not applicable). */
export function row<T>(
  measure: string,
  unit: Unit,
  better: ComparisonRow['better'],
  results: RunsByServer<T>,
  pick: (result: T, server: PeerName) => number | null,
  note?: (server: PeerName) => string | undefined,
): ComparisonRow {
  const cells: Partial<Record<PeerName, Cell>> = {};
  for (const [server, runs] of results) {
    const values = runs.filter((r): r is T => !(r instanceof Error)).map((r) => pick(r, server));
    const numbers = values.filter((v): v is number => v !== null && Number.isFinite(v));
    const failed = runs.length - values.length;
    const notes = [note?.(server), failed ? `${failed} of ${runs.length} runs failed` : undefined].filter(Boolean);
    cells[server] = {
      median: numbers.length ? median(numbers) : null,
      runs: numbers,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  }
  return { measure, unit, better, cells };
}

/** Failure lines for runs that threw. */
export function runErrors<T>(scenario: string, results: RunsByServer<T>): string[] {
  const lines: string[] = [];
  for (const [server, runs] of results) {
    runs.forEach((r, i) => {
      if (r instanceof Error) lines.push(`${scenario}: ${server} run ${i + 1}: ${r.message.split('\n')[0]}`);
    });
  }
  return lines;
}
