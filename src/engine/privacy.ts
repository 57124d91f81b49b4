import { NotFoundError } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import type { EngineConfig } from './config.ts';
import { scrubModel, type FitRunner, type Scrubbed } from './fit-job.ts';
import type { Ingest } from './ingest.ts';
import type { LivingProfiles } from './living.ts';
import type { Retraining } from './retraining.ts';
import type { ServingModel, ServingState } from './serving-state.ts';
import type { Warnings } from './warnings.ts';

const DAY_MS = 86_400_000;

/**
 * Privacy: erasure, retention and the audit trail. State owned: the erasures a running retrain
 * has not seen (its training set may still hold those users; they are erased again from its model
 * at the swap) and the retention timer.
 *
 * Erasure happens in the request: the rows, cached history and vector go at once, the items the
 * user touched are re-solved without them, and the request resolves once the saved model is
 * scrubbed too (older versions, which still hold the user, dropped) and the database checkpointed,
 * so the id is nowhere in the file. Re-serialising the model runs on a scrub thread, so the
 * serving thread stays free while a large model is rewritten.
 */
export class Privacy {
  private unseen: Array<{ userId: string; items: string[] }> = [];
  private retention: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly state: ServingState,
    private readonly profiles: LivingProfiles,
    private readonly ingest: Ingest,
    private readonly retraining: Retraining,
    /** A thread of its own, so an erasure never waits behind a long retrain. */
    private readonly scrubber: FitRunner,
    private readonly warnings: Warnings,
    private readonly clock: () => number,
  ) {
    retraining.onSwap = (serving) => this.reapply(serving);
  }

  /**
   * Retention: prunes expired feedback now — awaited when the engine opens, so nothing past
   * retention is counted or served even on a store that answers asynchronously — then daily.
   */
  async start(): Promise<void> {
    if (this.config.retentionDays <= 0) return;
    await this.pruneExpired();
    this.retention = setInterval(() => void this.pruneExpired(), DAY_MS);
    this.retention.unref();
  }

  /** Erases one (stored) user id; `subject` is what the audit log records instead of the id. */
  async deleteUser(userId: string, subject: string): Promise<{ deleted: number }> {
    if (!(await this.store.getUser(userId))) throw new NotFoundError('userId', userId);
    const items = [...new Set((await this.profiles.history(userId)).map((e) => e.itemId))];
    const deleted = await this.store.deleteUser(userId);
    this.profiles.forget(userId);
    this.ingest.forget(userId);
    if (this.retraining.running) this.unseen.push({ userId, items });
    const serving = this.state.current;
    if (serving) await this.eraseFromModel(serving, [userId], items);
    await this.store.audit('delete-user', subject, { deleted }, this.clock());
    await this.scrubSaved(serving, [userId], items);
    return { deleted };
  }

  async close(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    await this.scrubber.close();
  }

  /** A retrain's model swapped in: users erased while it trained leave it too. */
  private reapply(serving: ServingModel): void {
    const pending = this.unseen;
    this.unseen = [];
    if (pending.length === 0) return;
    const users = pending.map((p) => p.userId);
    const items = [...new Set(pending.flatMap((p) => p.items))];
    // The users leave the serving model in this turn; the items they touched are re-solved as their feedback is read.
    for (const userId of users) if (serving.model.hasUser(userId)) serving.model.forgetUser(userId);
    this.eraseFromModel(serving, users, items)
      .then(() => this.scrubSaved(serving, users, items))
      .catch((error: Error) => this.warnings.add(`erasing ${users.length} user(s) from model version ${serving.meta.version} failed: ${error.message}`));
  }

  /** Another server erased a user: the vector and cached history go here too (the saved model is that server's to scrub). */
  forgetErased(userId: string): void {
    const serving = this.state.current;
    serving?.baseline?.forget(userId);
    if (serving?.model.hasUser(userId)) serving.model.forgetUser(userId);
    // Item-kNN re-derives its similarities without the user: every list may move.
    this.profiles.lists.clear();
    this.profiles.forget(userId);
    this.ingest.forget(userId);
  }

  private async eraseFromModel(serving: ServingModel, users: string[], items: string[]): Promise<void> {
    // The baseline finds users through the model's ids, which erasure renames: forget them first.
    for (const userId of users) serving.baseline?.forget(userId);
    await scrubModel(serving.model, this.store, this.config, users, items, new Set(await this.store.flaggedUsers()));
    // Lists ranked while the items were being re-solved (between its awaits) are of a half-scrubbed model.
    this.profiles.lists.clear();
  }

  /**
   * Rewrites the newest saved model without the users and empties the WAL, on the scrub thread
   * for a file. Should that fail (a saved model gone corrupt, the thread lost), or for an
   * in-memory store, the serving model — already scrubbed — is saved here as the only version
   * instead: slower, but an erasure is never answered while the id is still in the file.
   */
  private async scrubSaved(serving: ServingModel | null, users: string[], items: string[]): Promise<void> {
    const location = this.store.location();
    let result: Scrubbed | null = null;
    if (location) {
      try {
        result = await this.scrubber.scrub({ config: this.config, source: { db: location }, users, items });
      } catch (error) {
        this.warnings.add(`scrubbing the saved model on its thread failed (${(error as Error).message}); saved the serving model instead`);
      }
    }
    let saved = result?.saved ?? null;
    if (!result || (!saved && serving)) {
      if (serving) {
        const { algorithm, params, metrics, trainedAt, feedbackWatermark } = serving.meta;
        saved = await this.store.saveModel({ algorithm, params, metrics, trainedAt, feedbackWatermark }, serving.model.save(), 1);
      }
      result = { saved, checkpointed: (await this.store.maintenance?.checkpoint()) ?? true };
    }
    if (!result.checkpointed) {
      this.warnings.add('an erasure could not empty the write-ahead log while a long read ran; the next checkpoint will (SQLite checkpoints as the log grows)');
    }
    // A newer model the thread scrubbed belongs to a retrain about to swap in (which erases again at the swap).
    if (serving && saved && saved.feedbackWatermark === serving.meta.feedbackWatermark) serving.meta = saved;
  }

  /** Retention: feedback older than `retentionDays` leaves the store; cached histories reset. */
  private async pruneExpired(): Promise<void> {
    try {
      const removed = await this.store.pruneFeedback(this.clock() - this.config.retentionDays * DAY_MS);
      if (removed === 0) return;
      this.profiles.histories.clear();
      await this.store.audit('retention-prune', null, { removed, olderThanDays: this.config.retentionDays }, this.clock());
    } catch (error) {
      this.warnings.add(`retention prune failed: ${(error as Error).message}`);
    }
  }
}
