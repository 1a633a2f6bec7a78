/** Numbers for people, by unit. */
import type { Unit } from './scenario';

/** Bytes: KiB below 1 MiB, else MiB. */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

/** Milliseconds with the precision their size deserves. */
function preciseMs(value: number): string {
  return `${value.toFixed(value < 1 ? 2 : value < 100 ? 1 : 0)} ms`;
}

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return '—';
  switch (unit) {
    case 'ms':
      return preciseMs(value);
    case 'us':
      return `${value.toFixed(1)} µs`;
    case 'bytes':
      return formatBytes(value);
    case 'per_s':
      return `${Math.round(value).toLocaleString('en')}/s`;
    case 'count':
      return Math.round(value).toLocaleString('en');
  }
}
