/** Order statistics for benchmark samples. */

/** The p-th percentile (0–100) of `sorted` (ascending), nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of `values` (the lower middle one for an even count, so it is a measured value). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The median over runs of `pick`, leaving out runs that threw and values that are missing or not finite. */
export function medianOf<T>(runs: readonly (T | Error)[], pick: (r: T) => number | null): number {
  const values = runs.filter((r): r is T => !(r instanceof Error)).map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  return values.length ? median(values) : Number.NaN;
}

/** A growable list of numbers that sorts without boxing (hundreds of thousands of latencies). */
export class Samples {
  private data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}
