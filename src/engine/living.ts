import { isExplicit } from '../model/index.ts';
import type { LatentFactors, Recommender } from '../model/types.ts';
import type { Store } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import { foldInItemFromFeedback } from './cold-items.ts';
import type { EngineConfig } from './config.ts';
import { HistoryCache, type Event } from './history-cache.ts';
import type { ServingState } from './serving-state.ts';
import { userSignals } from './signals.ts';

const MIN_USERS_TO_MOVE_COLD_ITEM = 3;

/**
 * The living profiles: each user's vector in the serving model kept in step with their stored
 * history. State owned: the recent histories (an LRU over the store), the users whose stored
 * history is newer than their vector (`stale`, folded in on their next request), and the
 * quarantined (`flagged`) users, whose events are stored but not learned from.
 */
export class LivingProfiles {
  readonly histories: HistoryCache;
  private readonly stale = new Set<string>();
  private readonly flagged: Set<string>;

  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly serving: ServingState,
    private readonly catalog: Catalog,
  ) {
    this.histories = new HistoryCache(store);
    this.flagged = new Set(store.flaggedUsers());
  }

  get quarantined(): number {
    return this.flagged.size;
  }

  isFlagged(userId: string): boolean {
    return this.flagged.has(userId);
  }

  /** The user's events (oldest first). */
  history(userId: string): Event[] {
    return this.histories.get(userId);
  }

  /** A live event was stored: it joins the cached history, and the user and item learn from it now. */
  learn(userId: string, itemId: string, event: Event): void {
    this.histories.append(userId, event);
    this.refresh(userId, true);
    this.learnItem(itemId);
  }

  /** A batch rewrote histories: each user is re-read and folded in on their next request. */
  invalidate(userIds: Iterable<string>): void {
    for (const userId of userIds) {
      this.histories.evict(userId);
      if (this.serving.model) this.stale.add(userId);
    }
  }

  /** A new model serves: users with feedback newer than its watermark are folded in on first use. */
  swapped(watermark: number): void {
    this.stale.clear();
    for (const userId of this.store.usersWithFeedbackAfter(watermark)) this.stale.add(userId);
  }

  /** Folds the user's profile in from their stored history when it is stale (or `force`d). */
  refresh(userId: string, force: boolean): void {
    const model = this.serving.model;
    if (!model || (!force && !this.stale.has(userId))) return;
    this.stale.delete(userId);
    if (this.flagged.has(userId)) return;
    const history = userSignals(this.histories.get(userId), this.config, isExplicit(model.algorithm));
    if (history.length > 0 || model.hasUser(userId)) model.foldInUser(userId, history);
  }

  /** Quarantine: rows stay stored but are not learned from, and what the user already taught the live profile is undone. */
  flag(userId: string, reason: string, at: number): void {
    this.store.flagUser(userId, reason, at);
    this.flagged.add(userId);
    const model = this.serving.model;
    if (model?.hasUser(userId)) model.foldInUser(userId, []);
  }

  /** Lifts a quarantine (false when the user is unknown) and folds the user back in. */
  unflag(userId: string): boolean {
    if (!this.store.unflagUser(userId)) return false;
    this.flagged.delete(userId);
    this.refresh(userId, true);
    return true;
  }

  /** Erasure: nothing about the user stays cached. */
  forget(userId: string): void {
    this.histories.evict(userId);
    this.flagged.delete(userId);
    this.stale.delete(userId);
  }

  /** A new catalog item with categories gets a starting vector from its category before any retrain. */
  placeItem(itemId: string): void {
    const current = this.serving.current;
    current?.categories?.place(current.model, itemId, this.catalog.categories(itemId));
  }

  /**
   * Items the model did not train on learn from their feedback as it arrives (foldInItem). An
   * item placed by its categories keeps that vector until a few users have spoken: one user's
   * taste is a worse guess than the category's.
   */
  private learnItem(itemId: string): void {
    const model = this.serving.model;
    if (!model?.latent || model.latent.itemTrained(itemId)) return;
    const events = this.store.itemFeedback(itemId).filter((e) => !this.flagged.has(e.userId));
    const users = new Set(events.map((e) => e.userId)).size;
    if (model.hasItem(itemId) && this.catalog.categories(itemId).length > 0 && users < MIN_USERS_TO_MOVE_COLD_ITEM) return;
    foldInItemFromFeedback(model as Recommender & { latent: LatentFactors }, events, this.config, () => true);
  }
}
