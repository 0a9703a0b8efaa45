/**
 * Runs tasks one at a time per key, in arrival order; different keys run concurrently.
 * vzctl's own lock does not wait (a second vzctl on the same container exits 9 at once),
 * so the driver queues its own operations on a container instead of racing itself.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
