import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';
import { isExplicit, loadModel } from '../model/index.ts';
import type { Algorithm, Recommender } from '../model/types.ts';
import { NotFoundError } from '../store/errors.ts';
import type { FeedbackInput, ItemInput, ItemRecord, ModelMeta, Store } from '../store/types.ts';
import { Catalog } from './catalog.ts';
import { resolveConfig, type EngineConfig } from './config.ts';
import { Popularity } from './popularity.ts';
import { profileOf } from './profile.ts';
import { HistoryCache } from './history-cache.ts';
import { eventWeight, userSignals } from './signals.ts';
import { Trainer } from './trainer.ts';
import { buildTrainingSet } from './training-set.ts';
import type {
  EngineApi, FeedbackResult, Health, ImportResult, ModelInfo, Profile, RecommendRequest, RecommendResult, ScoredItem,
} from './types.ts';

const DAY_MS = 86_400_000;

/**
 * The living-profile engine: every feedback is stored, the user's profile is folded in from
 * their full history at once, and the answer carries their updated recommendations. Full
 * retrains run on a worker thread and swap in atomically.
 */
export class Engine implements EngineApi {
  readonly config: EngineConfig;
  private serving: Recommender | null = null;
  private meta: ModelMeta | null = null;
  /** Users whose stored feedback is newer than their profile in the model; folded in on first use. */
  private readonly stale = new Set<string>();
  private readonly catalog: Catalog;
  private readonly popularity: Popularity;
  private readonly trainer = new Trainer();
  private readonly histories: HistoryCache;
  private training: { jobId: string; startedAt: number; done: Promise<void> } | null = null;
  private eventsSinceTrain = 0;
  private readonly warnings: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly store: Store,
    config: Partial<EngineConfig>,
  ) {
    this.config = resolveConfig(config);
    this.histories = new HistoryCache(store);
    this.catalog = new Catalog(store.listItems());
    this.popularity = new Popularity(this.config.popularityHalfLifeDays * DAY_MS);
    store.forEachFeedback((row) => this.countPopularity(row));
    if (this.config.retrainMinutes > 0) {
      this.timer = setInterval(() => this.eventsSinceTrain > 0 && this.startTraining(), this.config.retrainMinutes * 60_000);
      this.timer.unref();
    }
  }

  /** Opens an engine over a store and loads the newest readable model, if any. */
  static open(store: Store, config: Partial<EngineConfig> = {}): Engine {
    const engine = new Engine(store, config);
    engine.loadLatestModel();
    return engine;
  }

  health(): Health {
    const info = this.model();
    return {
      status: 'ok',
      model: { version: info.version, status: info.status },
      items: this.catalog.size,
      feedback: this.store.countFeedback(),
      warnings: [...this.warnings],
    };
  }

  upsertItems(items: ItemInput[]): number {
    const count = this.store.upsertItems(items);
    for (const { itemId } of items) this.remember(this.store.getItem(itemId)!);
    return count;
  }

  getItem(itemId: string): ItemRecord {
    const item = this.store.getItem(itemId);
    if (!item) throw new NotFoundError('itemId', itemId);
    return item;
  }

  deleteItem(itemId: string): void {
    if (!this.store.setItemAvailable(itemId, false)) throw new NotFoundError('itemId', itemId);
    this.remember(this.store.getItem(itemId)!);
  }

  addFeedback(event: FeedbackInput, n: number): FeedbackResult {
    const result = this.ingest([event]);
    if (result.accepted > 0) {
      this.histories.append(event.userId, event);
      this.refresh(event.userId, true);
    }
    return { accepted: result.accepted, duplicates: result.duplicates, ...this.recommend(event.userId, { n }) };
  }

  importFeedback(events: FeedbackInput[]): ImportResult {
    const result = this.ingest(events);
    // Batches are imports: profiles are folded in lazily, on each user's next request.
    for (const e of events) {
      this.histories.evict(e.userId);
      if (this.serving) this.stale.add(e.userId);
    }
    return result;
  }

  recommend(userId: string, request: RecommendRequest): RecommendResult {
    this.refresh(userId, false);
    const model = this.serving;
    const recommendations =
      model?.hasProfile(userId)
        ? model.recommend(userId, { n: request.n, exclude: request.exclude, filter: this.catalog.filter(request.categories) })
        : this.coldStart(this.seenBy(userId, request.exclude), request);
    return { userId, modelVersion: this.meta?.version ?? null, recommendations };
  }

  recommendSession(itemIds: string[], request: RecommendRequest): { modelVersion: number | null; recommendations: ScoredItem[] } {
    const model = this.serving;
    const known = model ? itemIds.filter((id) => model.hasItem(id)) : [];
    // A visited item is a positive signal: the top rating for explicit models, a click otherwise.
    const value = model && isExplicit(model.algorithm) ? 5 : this.config.weights.click;
    const recommendations =
      model && known.length > 0
        ? model.recommendFor(known.map((itemId) => ({ itemId, value })), { n: request.n, exclude: [...itemIds, ...(request.exclude ?? [])], filter: this.catalog.filter(request.categories) })
        : this.coldStart(new Set([...itemIds, ...(request.exclude ?? [])]), request);
    return { modelVersion: this.meta?.version ?? null, recommendations };
  }

  similarItems(itemId: string, n: number): ScoredItem[] {
    const model = this.serving;
    if (!model?.hasItem(itemId)) {
      if (!this.catalog.has(itemId)) throw new NotFoundError('itemId', itemId);
      return [];
    }
    const allowed = this.catalog.filter() ?? (() => true);
    // Over-fetch so that unavailable neighbours can be dropped without coming up short.
    return model.similarItems(itemId, Math.min(n * 3 + 10, model.itemCount)).filter((s) => allowed(s.itemId)).slice(0, n);
  }

  similarUsers(userId: string, n: number): Array<{ userId: string; score: number }> {
    if (!this.store.getUser(userId)) throw new NotFoundError('userId', userId);
    this.refresh(userId, false);
    return this.serving?.hasUser(userId) ? this.serving.similarUsers(userId, n) : [];
  }

  popular(request: RecommendRequest): ScoredItem[] {
    return this.coldStart(new Set(request.exclude), request);
  }

  profile(userId: string): Profile {
    const user = this.store.getUser(userId);
    if (!user) throw new NotFoundError('userId', userId);
    return profileOf(user, this.store.userFeedback(userId), this.catalog, this.config);
  }

  deleteUser(userId: string): { deleted: number } {
    if (!this.store.getUser(userId)) throw new NotFoundError('userId', userId);
    const deleted = this.store.deleteUser(userId);
    this.histories.evict(userId);
    // An empty history zeroes the vector and forgets the user's items in the model.
    if (this.serving?.hasUser(userId)) this.serving.foldInUser(userId, []);
    this.stale.delete(userId);
    return { deleted };
  }

  train(): { jobId: string } {
    return { jobId: this.startTraining().jobId };
  }

  /** Trains now and resolves once the new model serves (CLI `train`, demo, tests). */
  async trainNow(): Promise<ModelInfo> {
    await this.startTraining().done;
    return this.model();
  }

  model(): ModelInfo {
    const meta = this.meta;
    return {
      version: meta?.version ?? null,
      status: this.training ? 'training' : this.serving ? 'ready' : 'empty',
      algorithm: meta?.algorithm ?? this.config.algorithm,
      params: meta?.params ?? this.config.params,
      trainedAt: meta ? new Date(meta.trainedAt).toISOString() : null,
      metrics: meta?.metrics ?? {},
      ...(this.training && { training: { jobId: this.training.jobId, startedAt: new Date(this.training.startedAt).toISOString() } }),
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.trainer.close();
    await this.training?.done.catch(() => undefined);
  }

  // ---- internals ----

  private ingest(events: FeedbackInput[]): ImportResult {
    const result = this.store.addFeedback(events, { createMissingItems: this.config.createMissingItems });
    for (const itemId of result.createdItems) this.catalog.set(itemId, [], true);
    if (result.accepted > 0) {
      for (const e of events) this.countPopularity(e);
      this.eventsSinceTrain += result.accepted;
      if (this.config.retrainEvery > 0 && this.eventsSinceTrain >= this.config.retrainEvery) this.startTraining();
    }
    return { accepted: result.accepted, duplicates: result.duplicates };
  }

  /** Folds the user's profile in from their stored history when it is stale (or `force`d). */
  private refresh(userId: string, force: boolean): void {
    const model = this.serving;
    if (!model || (!force && !this.stale.has(userId))) return;
    this.stale.delete(userId);
    const history = userSignals(this.histories.get(userId), this.config, isExplicit(model.algorithm));
    if (history.length > 0 || model.hasUser(userId)) model.foldInUser(userId, history);
  }

  private coldStart(exclude: Set<string>, request: RecommendRequest): ScoredItem[] {
    const allowed = this.catalog.filter(request.categories);
    return this.popularity.top(request.n, (id) => !exclude.has(id) && (!allowed || allowed(id)));
  }

  private seenBy(userId: string, exclude: string[] = []): Set<string> {
    const seen = new Set(exclude);
    if (this.store.getUser(userId)) for (const e of this.histories.get(userId)) seen.add(e.itemId);
    return seen;
  }

  private countPopularity(event: Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'>): void {
    // Dislikes are feedback but not popularity.
    if (eventWeight(event, this.config) > 0) this.popularity.add(event.itemId, event.timestamp);
  }

  private remember(item: ItemRecord): void {
    this.catalog.set(item.itemId, item.categories, item.available);
  }

  private startTraining(): { jobId: string; done: Promise<void> } {
    if (this.training) return this.training;
    const algorithm = this.config.algorithm;
    const set = buildTrainingSet(this.store, this.config, algorithm);
    if (set.values.length === 0) throw new InvalidInputError('nothing to train on: no usable feedback is stored yet', 'feedback');
    const jobId = randomUUID();
    const startedAt = Date.now();
    this.eventsSinceTrain = 0;
    // Read the sizes now: the arrays are transferred to the training thread.
    const sizes = { users: set.users.length, items: set.items.length, interactions: set.values.length };
    const done = this.trainer
      .fit({ algorithm, params: this.config.params, set })
      .then(({ bytes, seconds }) => this.swapIn(algorithm, bytes, seconds, set.watermark, sizes))
      .catch((error: Error) => {
        this.warnings.push(`training job ${jobId} failed: ${error.message}`);
        throw error;
      })
      .finally(() => {
        this.training = null;
      });
    // Background jobs report failures through warnings; callers who await `done` see the error.
    done.catch(() => undefined);
    this.training = { jobId, startedAt, done };
    return this.training;
  }

  private swapIn(algorithm: Algorithm, bytes: Uint8Array, fitSeconds: number, watermark: number, sizes: Record<string, number>): void {
    const model = loadModel(bytes);
    const meta = this.store.saveModel(
      { algorithm, params: { ...model.params }, metrics: { fitSeconds, ...sizes }, trainedAt: Date.now(), feedbackWatermark: watermark },
      bytes,
      this.config.keepModels,
    );
    this.serving = model;
    this.meta = meta;
    this.stale.clear();
    // Feedback that arrived while training is not in the new model: fold those users in now.
    for (const userId of this.store.usersWithFeedbackAfter(watermark)) {
      this.stale.add(userId);
      this.refresh(userId, false);
    }
  }

  private loadLatestModel(): void {
    for (const meta of this.store.latestModels()) {
      try {
        this.serving = loadModel(this.store.loadModelBytes(meta.version));
        this.meta = meta;
        for (const userId of this.store.usersWithFeedbackAfter(meta.feedbackWatermark)) this.stale.add(userId);
        return;
      } catch (error) {
        this.warnings.push(`model version ${meta.version} could not be loaded (${(error as Error).message}); trying an older one`);
      }
    }
  }
}
