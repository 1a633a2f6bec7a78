/**
 * Runs tasks one after another per key, and tasks of different keys side by side. The replicator
 * handles a link's messages for one document in the order they arrived: a state request is
 * answered only after the updates sent before it were applied, so the reply covers them and the
 * asking region never re-sends a change that was merely in flight.
 */
export class SerialByKey {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every earlier task of `key`; a task that fails does not stop the next. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with a task queued or running (tests; bounded by the documents in flight). */
  get size(): number {
    return this.tails.size;
  }
}
