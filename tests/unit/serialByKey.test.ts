import { describe, expect, it } from 'vitest';
import { SerialByKey } from '../../server/replication/SerialByKey';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('SerialByKey', () => {
  it('runs one key in order, other keys meanwhile, and forgets idle keys', async () => {
    const queue = new SerialByKey();
    const events: string[] = [];
    const first = gate();
    const a1 = queue.run('a', async () => {
      await first.promise;
      events.push('a1');
    });
    const a2 = queue.run('a', async () => {
      events.push('a2');
    });
    await queue.run('b', async () => {
      events.push('b1');
    });
    expect(events).toEqual(['b1']); // a2 waits behind a1; b did not
    first.open();
    await Promise.all([a1, a2]);
    expect(events).toEqual(['b1', 'a1', 'a2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.size).toBe(0);
  });

  it('a failing task rejects its own promise and does not stop the next', async () => {
    const queue = new SerialByKey();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    let ran = false;
    const next = queue.run('a', async () => {
      ran = true;
    });
    await expect(failed).rejects.toThrow('boom');
    await next;
    expect(ran).toBe(true);
  });
});
