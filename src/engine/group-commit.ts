/**
 * Group commit: work submitted during one turn of the event loop is handed over as one batch, on
 * the next `setImmediate`. The engine uses it for live feedback posts, so concurrent clients share
 * one SQLite transaction — one fsync — instead of queueing behind each other's.
 *
 * `commit(batch)` runs the shared part (the transaction); if it throws, every submission of the
 * batch is rejected with that error. Otherwise it returns one answer function per submission, in
 * order, each run on its own: one failing answer rejects only its own submission.
 */
export class GroupCommit<T, R> {
  private queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];

  constructor(private readonly commit: (batch: T[]) => Array<() => R>) {}

  /** Resolves with the submission's answer once its batch has been committed. */
  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (also called on close, so nothing queued is dropped). */
  flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let answers: Array<() => R>;
    try {
      answers = this.commit(batch.map((entry) => entry.item));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, i) => {
      try {
        entry.resolve(answers[i]());
      } catch (error) {
        entry.reject(error);
      }
    });
  }
}
