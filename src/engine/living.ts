import { isExplicit } from '../model/index.ts';
import type { LatentFactors, Recommender, UserInteraction } from '../model/types.ts';
import type { Store } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import { foldInItemFromFeedback } from './cold-items.ts';
import type { EngineConfig } from './config.ts';
import { HistoryCache, type Event } from './history-cache.ts';
import { ListCache } from './list-cache.ts';
import type { ServingState } from './serving-state.ts';
import { userSignals } from './signals.ts';

const MIN_USERS_TO_MOVE_COLD_ITEM = 3;

/**
 * The living profiles: each user's vector in the serving model kept in step with their stored
 * history. State owned: the recent histories (an LRU over the store), the users whose stored
 * history is newer than their vector (`stale`, folded in on their next request), the
 * quarantined (`flagged`) users, whose events are stored but not learned from, and the ranked
 * lists read from the vectors (`lists`), dropped here whenever a vector changes.
 */
export class LivingProfiles {
  readonly histories: HistoryCache;
  readonly lists: ListCache;
  private readonly stale = new Set<string>();
  private flagged: Set<string>;
  /** Other servers write to the same store: a cached history or vector may be behind the log. */
  private readonly shared: boolean;
  /** Called when the log no longer holds a user this server knows: another server erased them. */
  onErasedElsewhere: (userId: string) => void = () => {};
  /** Users who learned while a swap read which users its model is behind on (they are behind too). */
  private learnedDuringSwap: Set<string> | null = null;

  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly serving: ServingState,
    private readonly catalog: Catalog,
    flagged: string[],
  ) {
    this.histories = new HistoryCache(store);
    this.lists = new ListCache(catalog, config.listCacheItems);
    this.flagged = new Set(flagged);
    this.shared = store.replication !== null;
  }

  get quarantined(): number {
    return this.flagged.size;
  }

  isFlagged(userId: string): boolean {
    return this.flagged.has(userId);
  }

  /** The user's events (oldest first). */
  history(userId: string): Promise<Event[]> {
    return this.histories.get(userId);
  }

  /** A live event was stored: it joins the cached history, and the user and item learn from it now. */
  async learn(userId: string, itemId: string, event: Event): Promise<void> {
    this.learnedDuringSwap?.add(userId);
    if (this.shared) {
      // Appending is only right if nothing else reached the log for this user since it was cached.
      const [mark, cached] = await Promise.all([this.store.userWatermark(userId), this.histories.watermark(userId)]);
      if (cached && cached.count + 1 === mark.count) this.histories.append(userId, [event], mark);
      else this.histories.evict(userId);
    } else {
      this.histories.append(userId, [event]);
    }
    await this.fold(userId);
    await this.learnItem(itemId);
  }

  /** A batch rewrote histories: each user is re-read and folded in on their next request. */
  invalidate(userIds: Iterable<string>): void {
    for (const userId of userIds) {
      this.histories.evict(userId);
      if (this.serving.model) this.stale.add(userId);
    }
  }

  /**
   * Before a new model with this watermark serves: the users it is behind on (feedback newer than
   * the watermark, or learned live meanwhile). Hand them to `swapped` in the same turn as the swap.
   */
  async behind(watermark: number): Promise<Set<string>> {
    const learned = (this.learnedDuringSwap = new Set());
    try {
      const users = new Set(await this.store.usersWithFeedbackAfter(watermark));
      for (const userId of learned) users.add(userId);
      return users;
    } finally {
      this.learnedDuringSwap = null;
    }
  }

  /** A new model serves: `behind` (see above) are folded in on first use. */
  swapped(behind: Set<string>): void {
    this.stale.clear();
    for (const userId of behind) this.stale.add(userId);
  }

  /** Folds the user's profile in from their stored history when it is stale (or `force`d). */
  async refresh(userId: string, force: boolean): Promise<void> {
    if (this.shared) await this.catchUp(userId);
    if (force || this.stale.has(userId)) await this.fold(userId);
  }

  /** Quarantine: rows stay stored but are not learned from, and what the user already taught the live profile is undone. */
  async flag(userId: string, reason: string, at: number): Promise<void> {
    await this.store.flagUser(userId, reason, at);
    this.flagged.add(userId);
    const model = this.serving.model;
    if (model?.hasUser(userId)) this.foldIn(model, userId, []);
  }

  /** Lifts a quarantine (false when the user is unknown) and folds the user back in. */
  async unflag(userId: string): Promise<boolean> {
    if (!(await this.store.unflagUser(userId))) return false;
    this.flagged.delete(userId);
    await this.fold(userId);
    return true;
  }

  /** Another server set or lifted quarantines: take the stored set, undoing or redoing what changed. */
  async reloadFlags(): Promise<void> {
    const now = new Set(await this.store.flaggedUsers());
    const model = this.serving.model;
    for (const userId of now) if (!this.flagged.has(userId) && model?.hasUser(userId)) this.foldIn(model, userId, []);
    const lifted = [...this.flagged].filter((userId) => !now.has(userId));
    this.flagged = now;
    for (const userId of lifted) this.stale.add(userId);
  }

  /** Users whose history is cached here. */
  knownUsers(): string[] {
    return this.histories.cachedUsers();
  }

  /** Erasure: nothing about the user stays cached (privacy drops the ranked lists, which erasure moves for everyone). */
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

  /** A retired item leaves the model's approximate index (filters keep it out of lists regardless), a returning one rejoins it. */
  setAvailable(itemId: string, available: boolean): void {
    this.serving.model?.latent?.setItemRetired(itemId, !available);
  }

  /**
   * A shared store: when the log holds rows for the user that this server's cached history (or,
   * uncached, its model) has not seen — another server stored them — the user is re-read and
   * folded in again. One indexed query per read; this is what makes a post on one server show on
   * the next read from any other.
   */
  private async catchUp(userId: string): Promise<void> {
    const [mark, cached] = await Promise.all([this.store.userWatermark(userId), this.histories.watermark(userId)]);
    if (mark.count === 0 && (cached || this.serving.model?.hasUser(userId))) {
      this.onErasedElsewhere(userId);
      return;
    }
    if (cached) {
      if (cached.count === mark.count && (cached.maxId === -1 || cached.maxId === mark.maxId)) return;
      this.histories.evict(userId);
      if (this.serving.model) this.stale.add(userId);
    } else if (this.serving.current && mark.maxId > this.serving.current.meta.feedbackWatermark) {
      this.stale.add(userId);
    }
  }

  private async fold(userId: string): Promise<void> {
    if (!this.serving.model) return;
    this.stale.delete(userId);
    if (this.flagged.has(userId)) return;
    const events = await this.histories.get(userId);
    // Read after the await: a swap may have happened meanwhile, and the new model is the one to update.
    const model = this.serving.model;
    if (!model || this.flagged.has(userId)) return;
    const history = userSignals(events, this.config, isExplicit(model.algorithm));
    if (history.length > 0 || model.hasUser(userId)) this.foldIn(model, userId, history);
  }

  /** Every change of a user's vector goes through here, so their cached list never outlives it. */
  private foldIn(model: Recommender, userId: string, history: UserInteraction[]): void {
    model.foldInUser(userId, history);
    this.lists.forget(userId);
  }

  /**
   * Items the model did not train on learn from their feedback as it arrives (foldInItem). An
   * item placed by its categories keeps that vector until a few users have spoken: one user's
   * taste is a worse guess than the category's.
   */
  private async learnItem(itemId: string): Promise<void> {
    const before = this.serving.model;
    if (!before?.latent || before.latent.itemTrained(itemId)) return;
    const events = (await this.store.itemFeedback(itemId)).filter((e) => !this.flagged.has(e.userId));
    const model = this.serving.model;
    if (!model?.latent || model.latent.itemTrained(itemId)) return;
    const users = new Set(events.map((e) => e.userId)).size;
    if (model.hasItem(itemId) && this.catalog.categories(itemId).length > 0 && users < MIN_USERS_TO_MOVE_COLD_ITEM) return;
    foldInItemFromFeedback(model as Recommender & { latent: LatentFactors }, events, this.config, () => true);
    // The item's scores moved for every user.
    this.lists.clear();
  }
}
