import { NotFoundError } from '../store/errors.ts';
import { FEEDBACK_TYPES, type AddFeedbackResult, type FeedbackInput, type ItemInput, type ItemRecord, type Store } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import { FloodGuard } from './flood.ts';
import { GroupCommit } from './group-commit.ts';
import type { LivingProfiles } from './living.ts';
import type { Observers } from './observers.ts';
import type { Popularity } from './popularity.ts';
import type { Retraining } from './retraining.ts';
import { eventWeight } from './signals.ts';
import type { FeedbackResult, ImportResult, RecommendResult } from './types.ts';
import type { Warnings } from './warnings.ts';

/** Past this many new events in one write, popularity is re-sorted once instead of kept in order. */
const BULK_EVENTS = 256;
/**
 * Events (or items) per transaction of a batch, between which other requests run: about 2 ms of
 * inserts here plus the commit's fsync, so a 10,000-row array never holds the serving thread.
 */
export const BACKFILL_SLICE = 100;

/** A live feedback post between its arrival and its group commit. */
interface PendingPost {
  event: FeedbackInput;
  /** As the client sent it (the event carries the stored, possibly pseudonymous, id). */
  rawUserId: string;
  n: number;
}

/**
 * Ingest: feedback and catalog writes. State owned: the group commit queue and the flood guard.
 * A live post is committed (sharing one transaction with the posts of the same event-loop turn),
 * then its user and item learn from it and it is answered with fresh recommendations. An array is
 * a backfill: stored in one transaction, its users folded in lazily, and never judged as a flood
 * (a shop replaying years of history is not a bot). Once a row is committed the request is
 * answered 2xx whatever happens after: a failed fold-in is a warning, not an error.
 */
export class Ingest {
  private readonly flood: FloodGuard;
  private readonly posts = new GroupCommit<PendingPost, FeedbackResult>(async (batch) => {
    const { stored } = await this.write(batch.map((post) => post.event), true);
    return batch.map((post, i) => () => this.answer(post, stored[i]));
  });

  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly catalog: Catalog,
    private readonly popularity: Popularity,
    private readonly profiles: LivingProfiles,
    private readonly retraining: Retraining,
    private readonly observers: Observers,
    private readonly warnings: Warnings,
    private readonly clock: () => number,
    /** The user's recommendations after their post (serving), falling back to popularity on any failure. */
    private readonly recommend: (userId: string, rawUserId: string, n: number) => Promise<RecommendResult>,
  ) {
    this.flood = new FloodGuard(config.floodEventsPerSecond, config.floodWindowSeconds);
  }

  /** The log's popularity, summed in the database: no event row crosses into JavaScript. */
  static async countPopularity(store: Store, config: EngineConfig, popularity: Popularity): Promise<void> {
    const counted = FEEDBACK_TYPES.filter((type) => type !== 'rating' && config.signals[type].weight > 0);
    const { anchor, items } = await store.decayedItemCounts(popularity.halfLifeMs, counted, config.signals.rating.weight);
    popularity.deferOrder();
    for (const { itemId, weight } of items) popularity.add(itemId, anchor, weight);
  }

  /**
   * Upserts in slices of BACKFILL_SLICE items, one transaction each, other requests answered
   * between slices (a shop's first catalog upload can be 100,000 items).
   */
  async upsertItems(items: ItemInput[]): Promise<number> {
    let count = 0;
    for (let start = 0; start < items.length; start += BACKFILL_SLICE) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const slice = items.slice(start, start + BACKFILL_SLICE);
      count += await this.store.upsertItems(slice);
      this.apply(await this.store.getItems(slice.map((item) => item.itemId)));
    }
    return count;
  }

  /** Stored items (upserted here or, on a shared store, by another server) reach the catalog and the model. */
  apply(items: ItemRecord[]): void {
    for (const item of items) {
      this.catalog.set(item.itemId, item.categories, item.available);
      this.profiles.placeItem(item.itemId);
      this.profiles.setAvailable(item.itemId, item.available);
    }
  }

  async deleteItem(itemId: string): Promise<void> {
    if (!(await this.store.setItemAvailable(itemId, false))) throw new NotFoundError('itemId', itemId);
    this.catalog.set(itemId, this.catalog.categories(itemId), false);
    this.profiles.setAvailable(itemId, false);
  }

  /** One live event (already carrying the stored user id); resolves once committed. */
  post(event: FeedbackInput, rawUserId: string, n: number): Promise<FeedbackResult> {
    // Checked before queueing, so one post naming an unknown item cannot fail the others' commit.
    if (!this.config.createMissingItems && !this.catalog.has(event.itemId)) {
      throw new NotFoundError('itemId', event.itemId, `itemId '${event.itemId}' does not exist; feedback must reference a known item unless createMissingItems is set`);
    }
    return this.posts.submit({ event, rawUserId, n });
  }

  /**
   * A batch (a backfill of history): stored in slices of BACKFILL_SLICE events, one transaction
   * each, yielding to other requests between slices; profiles are folded in lazily, on each
   * user's next request. Unknown items are refused before anything is stored. Should the store
   * fail mid-way, the slices before stay stored and the error is thrown: retrying the whole batch
   * is safe, since exact duplicates are recognised and stored once.
   */
  async backfill(events: FeedbackInput[]): Promise<ImportResult> {
    if (!this.config.createMissingItems) {
      const unknown = events.find((e) => !this.catalog.has(e.itemId));
      if (unknown) throw new NotFoundError('itemId', unknown.itemId, `itemId '${unknown.itemId}' does not exist; feedback must reference a known item unless createMissingItems is set`);
    }
    let accepted = 0;
    let duplicates = 0;
    for (let start = 0; start < events.length; start += BACKFILL_SLICE) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const slice = events.slice(start, start + BACKFILL_SLICE);
      const result = await this.write(slice, false);
      this.profiles.invalidate(new Set(slice.map((e) => e.userId)));
      accepted += result.accepted;
      duplicates += result.duplicates;
    }
    return { accepted, duplicates };
  }

  /** Commits what is queued (on close, so nothing queued is dropped). */
  flush(): Promise<void> {
    return this.posts.flush();
  }

  forget(userId: string): void {
    this.flood.forget(userId);
  }

  private async answer({ event, rawUserId, n }: PendingPost, stored: boolean): Promise<FeedbackResult> {
    const foldStart = performance.now();
    if (stored) {
      try {
        await this.profiles.learn(event.userId, event.itemId, { ...event, receivedAt: this.clock() });
      } catch (error) {
        // The row is committed: the post succeeds, and the next retrain learns from it.
        this.warnings.add(`live update of a profile failed (${(error as Error).message}); the event is stored and the next retrain learns from it`);
      }
    }
    const recommended = await this.recommend(event.userId, rawUserId, n);
    if (stored) this.observers.notify((o) => o.foldIn?.((performance.now() - foldStart) / 1000));
    return {
      accepted: stored ? 1 : 0,
      duplicates: stored ? 0 : 1,
      ...(this.profiles.isFlagged(event.userId) && { quarantined: true }),
      ...recommended,
    };
  }

  private async write(events: FeedbackInput[], live: boolean): Promise<AddFeedbackResult> {
    const now = this.clock();
    const result = await this.store.addFeedback(events, { createMissingItems: this.config.createMissingItems, receivedAt: now });
    this.reportFeedback(events, result.stored);
    for (const itemId of result.createdItems) this.catalog.set(itemId, [], true);
    if (result.accepted > 0) {
      const fresh = events.filter((_, i) => result.stored[i]);
      // A backfill or a large batch re-sorts once at the next read rather than moving items event
      // by event: history arrives out of time order, and an old event's item can jump the catalog.
      if (!live || fresh.length > BULK_EVENTS) this.popularity.deferOrder();
      for (const e of fresh) this.countPopularity(e);
      // The rows are committed: a failed quarantine write must not fail the posts.
      if (live) await this.watchForFloods(fresh, now).catch((error: Error) => this.warnings.add(`flagging a flooding user failed (${error.message})`));
      this.retraining.noteEvents(result.accepted);
    }
    return result;
  }

  /** Tells observers what a store write accepted and what it found to be duplicates, per type. */
  private reportFeedback(events: FeedbackInput[], stored: boolean[]): void {
    if (this.observers.size === 0) return;
    const perType = new Map<FeedbackInput['type'], { accepted: number; duplicates: number }>();
    events.forEach((e, i) => {
      const counts = perType.get(e.type) ?? { accepted: 0, duplicates: 0 };
      if (stored[i]) counts.accepted++;
      else counts.duplicates++;
      perType.set(e.type, counts);
    });
    for (const [type, { accepted, duplicates }] of perType) this.observers.notify((o) => o.feedback?.(type, accepted, duplicates));
  }

  /** Quarantines users posting live at a bot's rate; their rows stay stored but are not learned from. */
  private async watchForFloods(events: FeedbackInput[], now: number): Promise<void> {
    const perUser = new Map<string, number>();
    for (const e of events) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
    for (const [userId, count] of perUser) {
      if (this.profiles.isFlagged(userId) || !this.flood.record(userId, now, count)) continue;
      const rate = this.config.floodEventsPerSecond;
      await this.profiles.flag(userId, `posted more than ${rate} events/s over ${this.config.floodWindowSeconds} s`, now);
    }
  }

  private countPopularity(event: Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'>): void {
    // Dislikes are feedback but not popularity.
    if (eventWeight(event, this.config) > 0) this.popularity.add(event.itemId, event.timestamp);
  }
}
