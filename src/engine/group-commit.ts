/**
 * Group commit: work submitted during one turn of the event loop is handed over as one batch, on
 * the next `setImmediate`. The engine uses it for live feedback posts, so concurrent clients share
 * one transaction — one fsync — instead of queueing behind each other's.
 *
 * `commit(batch)` runs the shared part (the transaction); if it fails, every submission of the
 * batch is rejected with that error. Otherwise it returns one answer function per submission, in
 * order, each run on its own: one failing answer rejects only its own submission.
 */
export class GroupCommit<T, R> {
  private queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly commit: (batch: T[]) => Promise<Array<() => Promise<R>>>) {}

  /** Resolves with the submission's answer once its batch has been committed. */
  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ item, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  /** Commits what is queued now and resolves once every batch in flight is committed and answered (on close, so nothing queued is dropped). */
  async flush(): Promise<void> {
    const batch = this.queue;
    if (batch.length > 0) {
      this.queue = [];
      const done = this.run(batch);
      this.inFlight.add(done);
      void done.finally(() => this.inFlight.delete(done));
    }
    await Promise.all(this.inFlight);
  }

  private async run(batch: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }>): Promise<void> {
    let answers: Array<() => Promise<R>>;
    try {
      answers = await this.commit(batch.map((entry) => entry.item));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    // In order, one after another: two posts of one user fold in as they were committed.
    for (let i = 0; i < batch.length; i++) {
      try {
        batch[i].resolve(await answers[i]());
      } catch (error) {
        batch[i].reject(error);
      }
    }
  }
}
