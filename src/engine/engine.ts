import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';
import { FactorModel, type AnyFactorModel } from '../model/factor-model.ts';
import { createModel, isExplicit, loadModel } from '../model/index.ts';
import type { Algorithm, Recommender } from '../model/types.ts';
import { NotFoundError } from '../store/errors.ts';
import type { AddFeedbackResult, FeedbackInput, ItemInput, ItemRecord, ModelMeta, Store } from '../store/types.ts';
import { CoreBank } from '../wasm/core-bank.ts';
import { Baseline } from './baseline.ts';
import { Catalog } from './catalog.ts';
import { coldItemVector, foldInItemFromFeedback } from './cold-items.ts';
import { resolveConfig, type EngineConfig, type EngineConfigInput } from './config.ts';
import type { FitProgress, FitRunner } from './fit-job.ts';
import { FloodGuard } from './flood.ts';
import { GroupCommit } from './group-commit.ts';
import { HistoryCache, type Event } from './history-cache.ts';
import { fingerprint, pseudonymizer } from './pseudonym.ts';
import { Popularity } from './popularity.ts';
import { profileOf } from './profile.ts';
import { diversify, poolSize } from './rules.ts';
import { Segments } from './segments.ts';
import { eventWeight, userSignals } from './signals.ts';
import { Trainer } from './trainer.ts';
import { buildTrainingSet } from './training-set.ts';
import type {
  EngineApi, EngineMetrics, EngineObserver, FeedbackResult, Health, ImportResult, ModelInfo, Profile, RecommendRequest,
  RecommendResult, ScoredItem, Segment, SegmentMap, Stats, TrainingPhase, UserExport,
} from './types.ts';

const DAY_MS = 86_400_000;
const EXPLAIN_ITEMS = 3;
const MIN_USERS_TO_MOVE_COLD_ITEM = 3;
/** Past this many new events in one write, popularity is re-sorted once instead of kept in order. */
const BULK_EVENTS = 256;

/** The running retrain. */
interface TrainingJob {
  jobId: string;
  startedAt: number;
  done: Promise<void>;
  progress: number;
  phase: TrainingPhase;
}

/** A live feedback post between its arrival and its group commit. */
interface PendingPost {
  event: FeedbackInput;
  /** As the client sent it (the event carries the stored, possibly pseudonymous, id). */
  rawUserId: string;
  n: number;
}

/**
 * The living-profile engine: every feedback is stored, the user's profile is folded in from
 * their full history at once, and the answer carries their updated recommendations. Full
 * retrains run on a worker thread and swap in atomically.
 */
export class Engine implements EngineApi {
  readonly config: EngineConfig;
  private serving: Recommender | null = null;
  private meta: ModelMeta | null = null;
  /** User vectors as the last retrain left them, to measure drift against. */
  private baseline: Baseline | null = null;
  private segmentation: Segments | null = null;
  /** Users whose stored feedback is newer than their profile in the model; folded in on first use. */
  private readonly stale = new Set<string>();
  private readonly catalog: Catalog;
  private readonly popularity: Popularity;
  /**
   * WebAssembly cores reused from one retrain to the next (serving, one spare): an old
   * model's memory is only freed by a GC that nothing prompts, so it is handed on instead.
   */
  private readonly cores = new CoreBank(1);
  private readonly histories: HistoryCache;
  private readonly flood: FloodGuard;
  private readonly flagged: Set<string>;
  private training: TrainingJob | null = null;
  private eventsSinceTrain = 0;
  private readonly warnings: string[] = [];
  private readonly observers = new Set<EngineObserver>();
  /**
   * Live posts: those arriving in the same turn of the event loop share one transaction (one
   * fsync), then each is answered with its own fold-in and fresh top-N.
   */
  private readonly posts = new GroupCommit<PendingPost, FeedbackResult>((batch) => {
    const { stored } = this.ingest(batch.map((post) => post.event));
    return batch.map((post, i) => () => this.answerPost(post, stored[i]));
  });
  private timer: NodeJS.Timeout | null = null;
  private retention: NodeJS.Timeout | null = null;
  /** Raw user id → the id stored and learned from (itself unless pseudonymous ids are on). */
  private readonly uid: (userId: string) => string;

  private constructor(
    private readonly store: Store,
    config: EngineConfigInput,
    private readonly clock: () => number,
    /** Runs the fits: a worker thread unless a caller (a test) supplies another runner. */
    private readonly trainer: FitRunner,
  ) {
    this.config = resolveConfig(config);
    // Fail at startup, naming the parameter, rather than later inside a training thread.
    createModel(this.config.algorithm, this.config.params, { cores: this.cores }).dispose();
    this.uid = pseudonymizer(this.config.pseudonymSalt);
    this.histories = new HistoryCache(store);
    this.flood = new FloodGuard(this.config.floodEventsPerSecond, this.config.floodWindowSeconds);
    this.flagged = new Set(store.flaggedUsers());
    this.catalog = new Catalog(store.listItems());
    this.popularity = new Popularity(this.config.popularityHalfLifeDays * DAY_MS);
    this.popularity.deferOrder();
    store.forEachFeedback((row) => this.countPopularity(row));
    if (this.config.retrainMinutes > 0) {
      this.timer = setInterval(() => this.eventsSinceTrain > 0 && this.startTraining(), this.config.retrainMinutes * 60_000);
      this.timer.unref();
    }
    if (this.config.retentionDays > 0) {
      this.pruneExpired();
      this.retention = setInterval(() => this.pruneExpired(), DAY_MS);
      this.retention.unref();
    }
  }

  /** Opens an engine over a store and loads the newest readable model, if any. */
  static open(store: Store, config: EngineConfigInput = {}, clock: () => number = Date.now, trainer: FitRunner = new Trainer()): Engine {
    const engine = new Engine(store, config, clock, trainer);
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
    for (const { itemId } of items) {
      const item = this.store.getItem(itemId)!;
      this.catalog.set(item.itemId, item.categories, item.available);
      this.placeColdItem(item.itemId);
    }
    return count;
  }

  getItem(itemId: string): ItemRecord {
    const item = this.store.getItem(itemId);
    if (!item) throw new NotFoundError('itemId', itemId);
    return item;
  }

  deleteItem(itemId: string): void {
    if (!this.store.setItemAvailable(itemId, false)) throw new NotFoundError('itemId', itemId);
    this.catalog.set(itemId, this.catalog.categories(itemId), false);
  }

  async addFeedback(input: FeedbackInput, n: number): Promise<FeedbackResult> {
    const event = { ...input, userId: this.uid(input.userId) };
    // Checked before queueing, so one post naming an unknown item cannot fail the others' commit.
    if (!this.config.createMissingItems && !this.catalog.has(event.itemId)) {
      throw new NotFoundError('itemId', event.itemId, `itemId '${event.itemId}' does not exist; feedback must reference a known item unless createMissingItems is set`);
    }
    return this.posts.submit({ event, rawUserId: input.userId, n });
  }

  private answerPost({ event, rawUserId, n }: PendingPost, stored: boolean): FeedbackResult {
    const foldStart = performance.now();
    if (stored) {
      this.histories.append(event.userId, { ...event, receivedAt: this.clock() });
      this.refresh(event.userId, true);
      this.learnItem(event.itemId);
    }
    const quarantined = this.flagged.has(event.userId);
    const recommended = this.recommend(rawUserId, { n });
    if (stored) this.notify((o) => o.foldIn?.((performance.now() - foldStart) / 1000));
    return {
      accepted: stored ? 1 : 0,
      duplicates: stored ? 0 : 1,
      ...(quarantined && { quarantined }),
      ...recommended,
    };
  }

  importFeedback(input: FeedbackInput[]): ImportResult {
    const events = input.map((e) => ({ ...e, userId: this.uid(e.userId) }));
    const result = this.ingest(events);
    // Batches are imports: profiles are folded in lazily, on each user's next request.
    for (const e of events) {
      this.histories.evict(e.userId);
      if (this.serving) this.stale.add(e.userId);
    }
    return result;
  }

  recommend(rawUserId: string, request: RecommendRequest): RecommendResult {
    const userId = this.uid(rawUserId);
    this.refresh(userId, false);
    const model = this.serving;
    const personal = model?.hasProfile(userId) && !this.flagged.has(userId);
    let recommendations: ScoredItem[];
    if (personal) {
      const reshow = request.reshowAfterDays !== undefined;
      const exclude = [...(request.exclude ?? []), ...(reshow ? this.seenSince(userId, this.clock() - request.reshowAfterDays! * DAY_MS) : [])];
      const pool = model!.recommend(userId, {
        n: poolSize(request.n, request.diversity ?? 0),
        exclude,
        excludeSeen: !reshow,
        filter: this.catalog.filter(request.categories, request.excludeCategories),
      });
      recommendations = diversify(pool, request.n, request.diversity ?? 0, this.catalog);
      if (request.explain) recommendations = recommendations.map((r) => ({ ...r, because: model!.explain(userId, r.itemId, EXPLAIN_ITEMS).contributions }));
    } else {
      recommendations = this.coldStart(this.seenBy(userId, request.exclude), request);
      if (request.explain) recommendations = recommendations.map((r) => ({ ...r, because: [] }));
    }
    return { userId: rawUserId, modelVersion: this.meta?.version ?? null, recommendations };
  }

  recommendSession(itemIds: string[], request: RecommendRequest): { modelVersion: number | null; recommendations: ScoredItem[] } {
    const model = this.serving;
    const known = model ? itemIds.filter((id) => model.hasItem(id)) : [];
    // A visited item is a positive signal: the top rating for explicit models, a click otherwise.
    const value = model && isExplicit(model.algorithm) ? 5 : this.config.signals.click.weight;
    const exclude = [...itemIds, ...(request.exclude ?? [])];
    const recommendations =
      model && known.length > 0
        ? diversify(
            model.recommendFor(known.map((itemId) => ({ itemId, value })), {
              n: poolSize(request.n, request.diversity ?? 0),
              exclude,
              filter: this.catalog.filter(request.categories, request.excludeCategories),
            }),
            request.n, request.diversity ?? 0, this.catalog,
          )
        : this.coldStart(new Set(exclude), request);
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

  similarUsers(rawUserId: string, n: number): Array<{ userId: string; score: number }> {
    const userId = this.uid(rawUserId);
    if (!this.store.getUser(userId)) throw new NotFoundError('userId', userId);
    this.refresh(userId, false);
    return this.serving?.hasProfile(userId) ? this.serving.similarUsers(userId, n) : [];
  }

  popular(request: RecommendRequest): ScoredItem[] {
    return this.coldStart(new Set(request.exclude), request);
  }

  profile(rawUserId: string): Profile {
    const userId = this.uid(rawUserId);
    const user = this.store.getUser(userId);
    if (!user) throw new NotFoundError('userId', rawUserId);
    this.refresh(userId, false);
    const model = this.serving;
    const vector = model instanceof FactorModel && model.hasProfile(userId) ? model.userVector(userId) : null;
    const before = vector ? (this.baseline?.vector(userId) ?? null) : null;
    return profileOf({ ...user, userId: rawUserId }, this.histories.get(userId), {
      catalog: this.catalog,
      config: this.config,
      now: this.clock(),
      segment: vector && this.segmentation ? pick(this.segmentation.assign(vector)) : null,
      distance: vector && before ? cosineDistance(vector, before) : null,
      trainedAt: this.meta?.trainedAt ?? null,
    });
  }

  segments(): Segment[] {
    return this.segmentation?.all() ?? [];
  }

  /**
   * Erasure, in the request: the user's rows, cached history, vector and id leave the store and
   * the model; items they touched are re-solved without them; the serving model is re-saved
   * scrubbed (older versions, which still hold the user, are dropped) and the database
   * checkpointed, so the id is nowhere in the file afterwards.
   */
  deleteUser(rawUserId: string): { deleted: number } {
    const userId = this.uid(rawUserId);
    if (!this.store.getUser(userId)) throw new NotFoundError('userId', rawUserId);
    const touched = new Set(this.histories.get(userId).map((e) => e.itemId));
    const deleted = this.store.deleteUser(userId);
    this.histories.evict(userId);
    this.flood.forget(userId);
    this.flagged.delete(userId);
    this.stale.delete(userId);
    const model = this.serving;
    if (model && this.meta) {
      if (model.hasUser(userId)) model.forgetUser(userId);
      this.baseline?.forget(userId);
      if (model instanceof FactorModel) for (const itemId of touched) this.resolveItem(model, itemId);
      // Older saved versions may still hold the user: only the scrubbed one is kept.
      const { algorithm, params, metrics, trainedAt, feedbackWatermark } = this.meta;
      this.meta = this.store.saveModel({ algorithm, params, metrics, trainedAt, feedbackWatermark }, model.save(), 1);
    }
    this.store.audit('delete-user', fingerprint(rawUserId, this.config.pseudonymSalt ?? ''), { deleted }, this.clock());
    this.store.checkpoint();
    return { deleted };
  }

  exportUser(rawUserId: string): UserExport {
    const profile = this.profile(rawUserId);
    const feedback = this.store.userFeedback(this.uid(rawUserId)).map(({ itemId, type, value, timestamp }) => ({ itemId, type, value, timestamp }));
    return { userId: rawUserId, profile, feedback };
  }

  unflagUser(rawUserId: string): { userId: string; flags: [] } {
    const userId = this.uid(rawUserId);
    if (!this.store.unflagUser(userId)) throw new NotFoundError('userId', rawUserId);
    this.flagged.delete(userId);
    this.flood.forget(userId);
    this.refresh(userId, true);
    this.store.audit('unflag-user', fingerprint(rawUserId, this.config.pseudonymSalt ?? ''), {}, this.clock());
    return { userId: rawUserId, flags: [] };
  }

  segmentMap(limit = 2000): SegmentMap {
    const model = this.serving;
    const segments = this.segments();
    if (!(model instanceof FactorModel) || !this.segmentation) return { segments, points: [], explained: [0, 0] };
    const { users, coords, explained } = model.projectUsers(limit);
    const points = users.map((userId, t) => ({
      userId,
      x: coords[2 * t],
      y: coords[2 * t + 1],
      segment: this.segmentation!.assign(model.userVector(userId)).id,
    }));
    return { segments, points, explained };
  }

  stats(): Stats {
    const since = this.clock() - 30 * 60_000;
    const minutes = new Map<number, Record<string, number>>();
    for (const { minute, type, count } of this.store.arrivalsSince(since)) {
      const byType = minutes.get(minute) ?? {};
      byType[type] = count;
      minutes.set(minute, byType);
    }
    const byType = this.store.countsByType() as Record<string, number>;
    return {
      feedback: { total: Object.values(byType).reduce((a, b) => a + b, 0), byType },
      eventsPerMinute: [...minutes].map(([minute, counts]) => ({ minute: new Date(minute).toISOString(), byType: counts })),
      quarantinedUsers: this.flagged.size,
    };
  }

  evaluations(): Array<{ kind: string; createdAt: string; summary: Record<string, unknown> }> {
    return this.store.evaluations().map((e) => ({ ...e, createdAt: new Date(e.createdAt).toISOString() }));
  }

  train(): { jobId: string } {
    const { jobId } = this.startTraining();
    this.store.audit('train', null, { jobId }, this.clock());
    return { jobId };
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
      ...(this.training && { training: trainingStatus(this.training) }),
    };
  }

  metrics(): EngineMetrics {
    const meta = this.meta;
    return {
      model: {
        version: meta?.version ?? null,
        ageSeconds: meta ? Math.max(0, (this.clock() - meta.trainedAt) / 1000) : null,
        training: this.training !== null,
        trainingProgress: this.training?.progress ?? null,
      },
      items: this.catalog.size,
      feedback: this.store.countFeedback(),
      quarantinedUsers: this.flagged.size,
    };
  }

  observe(observer: EngineObserver): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  async close(): Promise<void> {
    // Posts already queued are committed and answered, not dropped.
    this.posts.flush();
    if (this.timer) clearInterval(this.timer);
    if (this.retention) clearInterval(this.retention);
    await this.trainer.close();
    await this.training?.done.catch(() => undefined);
  }

  // ---- internals ----

  private ingest(events: FeedbackInput[]): AddFeedbackResult {
    const now = this.clock();
    const result = this.store.addFeedback(events, { createMissingItems: this.config.createMissingItems, receivedAt: now });
    this.reportFeedback(events, result.stored);
    for (const itemId of result.createdItems) this.catalog.set(itemId, [], true);
    if (result.accepted > 0) {
      const fresh = events.filter((_, i) => result.stored[i]);
      // A large batch re-sorts once at the next read rather than moving items event by event.
      if (fresh.length > BULK_EVENTS) this.popularity.deferOrder();
      for (const e of fresh) this.countPopularity(e);
      this.eventsSinceTrain += result.accepted;
      this.watchForFloods(fresh, now);
      if (this.config.retrainEvery > 0 && this.eventsSinceTrain >= this.config.retrainEvery) this.startTraining();
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
    for (const [type, { accepted, duplicates }] of perType) this.notify((o) => o.feedback?.(type, accepted, duplicates));
  }

  /** Instrumentation must never break the work it watches. */
  private notify(call: (observer: EngineObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch {
        // ignored: see EngineObserver
      }
    }
  }

  /** Quarantines users posting at a bot's rate; their rows stay stored but are not learned from. */
  private watchForFloods(events: FeedbackInput[], now: number): void {
    const perUser = new Map<string, number>();
    for (const e of events) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
    for (const [userId, count] of perUser) {
      if (this.flagged.has(userId) || !this.flood.record(userId, now, count)) continue;
      const rate = this.config.floodEventsPerSecond;
      this.store.flagUser(userId, `posted more than ${rate} events/s over ${this.config.floodWindowSeconds} s`, now);
      this.flagged.add(userId);
      // Undo what the flood already taught the live profile.
      if (this.serving?.hasUser(userId)) this.serving.foldInUser(userId, []);
    }
  }

  /** Folds the user's profile in from their stored history when it is stale (or `force`d). */
  private refresh(userId: string, force: boolean): void {
    const model = this.serving;
    if (!model || (!force && !this.stale.has(userId))) return;
    this.stale.delete(userId);
    if (this.flagged.has(userId)) return;
    const history = userSignals(this.histories.get(userId), this.config, isExplicit(model.algorithm));
    if (history.length > 0 || model.hasUser(userId)) model.foldInUser(userId, history);
  }

  /** Re-solves a trained item's vector from its remaining feedback (after an erasure). */
  private resolveItem(model: AnyFactorModel, itemId: string): void {
    if (!model.hasItem(itemId)) return;
    const events = this.store.itemFeedback(itemId).filter((e) => !this.flagged.has(e.userId));
    if (events.length > 0) foldInItemFromFeedback(model, events, this.config, () => true);
    else model.setItemVector(itemId, new Float32Array(model.params.factors));
  }

  /** Retention: feedback older than `retentionDays` leaves the store; affected caches reset. */
  private pruneExpired(): void {
    const removed = this.store.pruneFeedback(this.clock() - this.config.retentionDays * DAY_MS);
    if (removed === 0) return;
    this.histories.clear();
    this.store.audit('retention-prune', null, { removed, olderThanDays: this.config.retentionDays }, this.clock());
  }

  /** A new item with categories gets a vector from its category peers before any retrain. */
  private placeColdItem(itemId: string): void {
    const model = this.serving;
    if (!(model instanceof FactorModel) || model.hasItem(itemId)) return;
    const vector = coldItemVector(model, this.catalog, itemId);
    if (vector) model.setItemVector(itemId, vector);
  }

  /**
   * Items the model did not train on learn from their feedback as it arrives (foldInItem). An
   * item placed by its categories keeps that vector until a few users have spoken: one user's
   * taste is a worse guess than the category's.
   */
  private learnItem(itemId: string): void {
    const model = this.serving;
    if (!(model instanceof FactorModel) || model.itemTrained(itemId)) return;
    const events = this.store.itemFeedback(itemId).filter((e) => !this.flagged.has(e.userId));
    const users = new Set(events.map((e) => e.userId)).size;
    if (model.hasItem(itemId) && this.catalog.categories(itemId).length > 0 && users < MIN_USERS_TO_MOVE_COLD_ITEM) return;
    foldInItemFromFeedback(model, events, this.config, () => true);
  }

  private coldStart(exclude: Set<string>, request: RecommendRequest): ScoredItem[] {
    const allowed = this.catalog.filter(request.categories, request.excludeCategories);
    const pool = this.popularity.top(poolSize(request.n, request.diversity ?? 0), (id) => !exclude.has(id) && (!allowed || allowed(id)));
    return diversify(pool, request.n, request.diversity ?? 0, this.catalog);
  }

  private seenBy(userId: string, exclude: string[] = []): Set<string> {
    const seen = new Set(exclude);
    if (this.store.getUser(userId)) for (const e of this.histories.get(userId)) seen.add(e.itemId);
    return seen;
  }

  /** Items the user interacted with at or after `since` (the rest may be re-shown). */
  private seenSince(userId: string, since: number): string[] {
    return this.histories.get(userId).filter((e: Event) => e.timestamp >= since).map((e) => e.itemId);
  }

  private countPopularity(event: Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'>): void {
    // Dislikes are feedback but not popularity.
    if (eventWeight(event, this.config) > 0) this.popularity.add(event.itemId, event.timestamp);
  }

  private startTraining(): { jobId: string; done: Promise<void> } {
    if (this.training) return this.training;
    const algorithm = this.config.algorithm;
    const began = performance.now();
    const set = buildTrainingSet(this.store, this.config, algorithm);
    if (set.values.length === 0) throw new InvalidInputError('nothing to train on: no usable feedback is stored yet', 'feedback');
    const jobId = randomUUID();
    const startedAt = this.clock();
    this.eventsSinceTrain = 0;
    // Read the sizes now: the arrays are transferred to the training thread.
    const sizes = { users: set.users.length, items: set.items.length, interactions: set.values.length };
    const done = this.trainer
      .fit({ algorithm, params: this.config.params, set }, (progress) => this.reportProgress(jobId, progress))
      .then(({ bytes, seconds }) => this.swapIn(algorithm, bytes, seconds, set.watermark, sizes))
      .then(() => this.notify((o) => o.training?.('success', (performance.now() - began) / 1000)))
      .catch((error: Error) => {
        this.warnings.push(`training job ${jobId} failed: ${error.message}`);
        this.notify((o) => o.training?.('failure', (performance.now() - began) / 1000));
        throw error;
      })
      .finally(() => {
        this.training = null;
      });
    // Background jobs report failures through warnings; callers who await `done` see the error.
    done.catch(() => undefined);
    this.training = { jobId, startedAt, done, progress: 0, phase: 'starting' };
    return this.training;
  }

  /** Keeps the running job's latest progress (never going back) for model() and tells observers. */
  private reportProgress(jobId: string, { phase, done, total }: FitProgress): void {
    const job = this.training;
    if (job?.jobId !== jobId) return;
    job.progress = Math.max(job.progress, total > 0 ? Math.min(1, done / total) : 0);
    job.phase = phase;
    this.notify((o) => o.trainingProgress?.(job.progress, phase));
  }

  private swapIn(algorithm: Algorithm, bytes: Uint8Array, fitSeconds: number, watermark: number, sizes: Record<string, number>): void {
    const model = loadModel(bytes, { cores: this.cores });
    let meta: ModelMeta;
    try {
      meta = this.store.saveModel(
        { algorithm, params: { ...model.params }, metrics: { fitSeconds, ...sizes }, trainedAt: this.clock(), feedbackWatermark: watermark },
        bytes,
        this.config.keepModels,
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
    this.use(model, meta);
    // Feedback that arrived while training is not in the new model: fold those users in now.
    for (const userId of this.stale) this.refresh(userId, false);
  }

  private use(model: Recommender, meta: ModelMeta): void {
    const previous = this.serving;
    this.serving = model;
    this.meta = meta;
    // Before anything is folded into the new model: drift is measured from here.
    this.baseline = model instanceof FactorModel ? Baseline.of(model) : null;
    // Nothing holds a replaced model (every request runs synchronously), so its core goes back
    // to the bank for the next retrain.
    previous?.dispose();
    this.segmentation = Segments.compute(model, this.catalog, this.config.segments, Number(model.params.seed ?? 42));
    this.stale.clear();
    for (const userId of this.store.usersWithFeedbackAfter(meta.feedbackWatermark)) this.stale.add(userId);
    for (const item of this.catalog.unknownTo(model)) this.placeColdItem(item);
  }

  private loadLatestModel(): void {
    const saved = this.store.latestModels();
    for (const meta of saved) {
      try {
        const bytes = this.store.loadModelBytes(meta.version);
        this.use(loadModel(bytes, { cores: this.cores }), meta);
        return;
      } catch (error) {
        this.warnings.push(`model version ${meta.version} could not be loaded (${(error as Error).message}); trying an older one`);
      }
    }
    // Every saved model was unreadable: retrain from the (intact) feedback log rather than serve popularity forever.
    if (saved.length > 0 && this.store.countFeedback() > 0) {
      this.warnings.push('no saved model could be loaded; retraining from the stored feedback');
      this.startTraining();
    }
  }
}

function trainingStatus({ jobId, startedAt, progress, phase }: TrainingJob): ModelInfo['training'] {
  return { jobId, startedAt: new Date(startedAt).toISOString(), progress, phase };
}

function pick({ id, label }: Segment): { id: number; label: string } {
  return { id, label };
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let f = 0; f < a.length; f++) {
    dot += a[f] * b[f];
    na += a[f] * a[f];
    nb += b[f] * b[f];
  }
  return na > 0 && nb > 0 ? 1 - dot / Math.sqrt(na * nb) : 0;
}
