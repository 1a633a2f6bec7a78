/**
 * Hostile edits at scale (issue #15): 100,000 generated frames over edit links against an
 * in-process Concord relay, in rounds of ROUND_FRAMES on a fresh document and data directory
 * each, every round checked with the replica invariant (relay memory = storage read by a fresh
 * server = every honest client). Any split fails the run.
 */
import { describeAttack, runHostileEditAttack, type AttackResult } from '../../support/hostileEditAttack';
import { TempDirs } from '../../support/tempDirs';
import type { Figure, Scenario } from '../scenario';

export const HOSTILE_EDIT_FRAMES = 100_000;
const ROUND_FRAMES = 5_000;
const FIRST_SEED = 1_500;

function count(name: string, value: number): Figure {
  return { name, value, unit: 'count', display: value.toLocaleString('en') };
}

export const hostileEdits: Scenario = {
  name: 'hostile-edits',
  description: `${HOSTILE_EDIT_FRAMES.toLocaleString('en')} mutated real updates over edit links while two clients type, each round of ${ROUND_FRAMES.toLocaleString('en')} checked for replica splits`,
  async run(options) {
    const total = options.frames ?? HOSTILE_EDIT_FRAMES;
    const rounds: { seed: number; result: AttackResult }[] = [];
    const dataDirs = new TempDirs();
    try {
      for (let sent = 0, seed = FIRST_SEED; sent < total; seed++) {
        const frames = Math.min(ROUND_FRAMES, total - sent);
        const result = await runHostileEditAttack({ dataDir: dataDirs.make('concord-bench-hostile-'), frames, seed });
        options.log(`  ${describeAttack(result, seed)}`);
        rounds.push({ seed, result });
        sent += frames;
        dataDirs.removeAll();
      }
    } finally {
      dataDirs.removeAll();
    }
    const sum = (pick: (r: AttackResult) => number) => rounds.reduce((n, { result }) => n + pick(result), 0);
    const splits = rounds.filter(({ result }) => result.invariant.splits > 0);
    return {
      figures: [
        count('frames sent', sum((r) => r.framesSent)),
        count('frames refused (connection closed)', sum((r) => r.framesRefused)),
        count('frames refused (metrics.rejectedFrames)', sum((r) => r.rejectedFrames)),
        count('updates accepted', sum((r) => r.updatesAccepted)),
        count('updates that failed half-way (logged)', sum((r) => r.halfWayFailures)),
        count('splits found (rounds whose replicas differ)', splits.length),
      ],
      notes: [
        `${rounds.length} rounds (seeds ${FIRST_SEED}–${FIRST_SEED + rounds.length - 1}), Concord relay in the bench's process with SQLite in a scratch directory; --server does not apply.`,
      ],
      failures: splits.map(({ seed, result }) => `hostile-edits seed ${seed}: replicas split: ${result.invariant.differences.join('; ').slice(0, 2_000)}`),
    };
  },
};
