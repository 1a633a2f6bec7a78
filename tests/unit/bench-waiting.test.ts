/**
 * The benchmark's stall guard: a build that stands still (no progress, server idle) fails after
 * `stallMs`; one that keeps moving is waited for past it.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { untilDoneOrStalled } from '../bench/waiting';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A process that uses no CPU: stands in for a server that stopped working. */
function idleProcess(): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

describe('untilDoneOrStalled', () => {
  it('gives up when neither the progress count nor the server moves for stallMs', async () => {
    const started = performance.now();
    const never = new Promise<number>(() => undefined);
    await expect(untilDoneOrStalled(never, 'the test build', { pid: idleProcess(), progress: () => 7, stallMs: 1_500, maxMs: 60_000 })).rejects.toThrow(
      /gave up waiting for the test build: no progress \(at 7\)/,
    );
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('keeps waiting past stallMs while progress moves, and returns the result', async () => {
    let progress = 0;
    const done = new Promise<string>((resolve) => setTimeout(() => resolve('built'), 3_500));
    const result = await untilDoneOrStalled(done, 'the test build', { pid: idleProcess(), progress: () => progress++, stallMs: 1_500, maxMs: 60_000 });
    expect(result).toBe('built');
  });
});
