/**
 * A seeded random schedule of faults for the region fault test: the same seed gives the same
 * faults, targets and timings, so a failing run can be replayed (`FAULT_SEED=<seed>`).
 */
import { seededRandom } from './fuzzFrames';

export type Fault =
  /** Both directions of the link between two regions are broken. */
  | { kind: 'cut-link'; regions: [string, string]; holdMs: number; gapMs: number }
  /** Every link of one region is broken; its clients still reach it and keep writing. */
  | { kind: 'isolate'; region: string; holdMs: number; gapMs: number }
  /** The region is SIGKILLed and started again on its data directory after `holdMs`. */
  | { kind: 'kill'; region: string; holdMs: number; gapMs: number }
  /** Isolated, then SIGKILLed while isolated and restarted still isolated, then healed. */
  | { kind: 'isolate+kill'; region: string; holdMs: number; gapMs: number };

export type FaultKind = Fault['kind'];

/**
 * Every kind appears at least `perKind` times (`isolate+kill` once), in a random order with
 * random targets; a fault lasts `holdMs` and the system runs healthy for `gapMs` after it.
 */
export function faultSchedule(seed: number, regions: readonly string[], perKind = 2): Fault[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const kinds: FaultKind[] = ['isolate+kill'];
  for (let i = 0; i < perKind; i++) kinds.push('cut-link', 'isolate', 'kill');
  // Fisher–Yates with the seeded generator.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((kind): Fault => {
    const holdMs = between(1500, 3500);
    const gapMs = between(500, 1500);
    if (kind === 'cut-link') {
      const a = pick(regions);
      const b = pick(regions.filter((r) => r !== a));
      return { kind, regions: [a, b], holdMs, gapMs };
    }
    return { kind, region: pick(regions), holdMs, gapMs };
  });
}

/** The seed from `FAULT_SEED`, or a fresh one (printed by the test so the run can be replayed). */
export function faultSeed(env: Record<string, string | undefined> = process.env): number {
  const given = env.FAULT_SEED;
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  if (!/^\d{1,10}$/.test(given)) throw new RangeError(`FAULT_SEED must be a whole number, got ${JSON.stringify(given)}`);
  return Number(given);
}

export function describeFault(fault: Fault): string {
  const target = fault.kind === 'cut-link' ? fault.regions.join('–') : fault.region;
  return `${fault.kind} ${target} for ${fault.holdMs} ms`;
}
