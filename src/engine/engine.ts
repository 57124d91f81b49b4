import { createModel } from '../model/index.ts';
import type { Recommender } from '../model/types.ts';
import type { FeedbackInput, ItemInput, ItemRecord, Store } from '../store/types.ts';
import { NotFoundError } from '../store/errors.ts';
import { CoreBank } from '../wasm/core-bank.ts';
import { Catalog } from './catalog.ts';
import { resolveConfig, type EngineConfig, type EngineConfigInput } from './config.ts';
import type { FitRunner } from './fit-job.ts';
import { Ingest } from './ingest.ts';
import { Insights } from './insights.ts';
import { LivingProfiles } from './living.ts';
import { Observers } from './observers.ts';
import { Popularity } from './popularity.ts';
import { Privacy } from './privacy.ts';
import { ReplicaSync } from './replica.ts';
import { fingerprint, pseudonymizer } from './pseudonym.ts';
import { Retraining } from './retraining.ts';
import { Serving } from './serving.ts';
import { ServingState } from './serving-state.ts';
import { Trainer } from './trainer.ts';
import type {
  EngineApi, EngineMetrics, EngineObserver, FeedbackResult, Health, ImportResult, ModelInfo, Profile, RecommendRequest,
  RecommendResult, ScoredItem, Segment, SegmentMap, Stats, UserExport,
} from './types.ts';
import { Warnings } from './warnings.ts';

const DAY_MS = 86_400_000;

/**
 * The living-profile engine, wired: every feedback is stored and the user's profile folded in at
 * once (ingest, living), reads come from the serving model (serving), full retrains run on a
 * training thread and swap in by pointer (retraining), erasure and retention (privacy), and
 * profiles and segments (insights). This file only composes them and maps raw user ids to the
 * stored ones (pseudonyms when a salt is set).
 */
export class Engine implements EngineApi {
  readonly config: EngineConfig;
  private readonly observers = new Observers();
  private readonly warnings = new Warnings();
  private readonly state = new ServingState();
  private readonly catalog: Catalog;
  private readonly profiles: LivingProfiles;
  private readonly serving: Serving;
  private readonly ingest: Ingest;
  private readonly retraining: Retraining;
  private readonly privacy: Privacy;
  private readonly insights: Insights;
  private readonly popularity: Popularity;
  /** Raw user id → the id stored and learned from (itself unless pseudonymous ids are on). */
  private readonly uid: (userId: string) => string;
  /** On a shared store: what other servers change, applied here. */
  private replica: ReplicaSync | null = null;

  private constructor(
    private readonly store: Store,
    config: EngineConfigInput,
    private readonly clock: () => number,
    trainer: FitRunner,
    scrubber: FitRunner,
    stored: { items: ItemRecord[]; flagged: string[] },
  ) {
    const c = (this.config = resolveConfig(config));
    // WebAssembly cores reused from one model to the next (serving, one spare): an old model's memory is only freed by a GC that nothing prompts.
    const cores = new CoreBank(1);
    // Fail at startup, naming the parameter, rather than later inside a training thread.
    createModel(c.algorithm, c.params, { cores }).dispose();
    this.uid = pseudonymizer(c.pseudonymSalt);
    this.catalog = new Catalog(stored.items);
    this.popularity = new Popularity(c.popularityHalfLifeDays * DAY_MS);
    const popularity = this.popularity;
    this.profiles = new LivingProfiles(store, c, this.state, this.catalog, stored.flagged);
    this.serving = new Serving(store, c, this.state, this.profiles, this.catalog, popularity, clock);
    this.retraining = new Retraining(store, c, this.state, this.profiles, this.catalog, cores, trainer, this.observers, this.warnings, clock);
    const answer = (userId: string, rawUserId: string, n: number) =>
      this.serving.recommendAfterPost(userId, rawUserId, n, (e) => this.warnings.add(`ranking after a post failed (${e.message}); answered from popularity`));
    this.ingest = new Ingest(store, c, this.catalog, popularity, this.profiles, this.retraining, this.observers, this.warnings, clock, answer);
    this.privacy = new Privacy(store, c, this.state, this.profiles, this.ingest, this.retraining, scrubber, this.warnings, clock);
    this.insights = new Insights(store, c, this.state, this.profiles, this.catalog, clock);
    this.profiles.onErasedElsewhere = (userId) => this.privacy.forgetErased(userId);
  }

  /**
   * Opens an engine over a store and loads the newest readable model, if any. On a store shared
   * with other servers it also follows their changes (catalog, quarantines, erasures, models).
   */
  static async open(store: Store, config: EngineConfigInput = {}, clock: () => number = Date.now, trainer: FitRunner = new Trainer()): Promise<Engine> {
    const [items, flagged] = await Promise.all([store.listItems(), store.flaggedUsers()]);
    const engine = new Engine(store, config, clock, trainer, new Trainer(), { items, flagged });
    try {
      await engine.privacy.start();
      await Ingest.countPopularity(store, engine.config, engine.popularity);
      if (store.replication) {
        engine.replica = await ReplicaSync.start(store, engine.ingest, engine.profiles, engine.privacy, engine.retraining, engine.warnings);
        // Models trained by other servers are made ready on the training thread: start it now, not at the first one.
        trainer.warm?.();
      }
      await engine.retraining.loadLatest();
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  async health(): Promise<Health> {
    const info = this.model();
    const feedback = await this.store.countFeedback();
    return { status: 'ok', model: { version: info.version, status: info.status }, items: this.catalog.size, feedback, warnings: this.warnings.all() };
  }

  upsertItems(items: ItemInput[]): Promise<number> {
    return this.ingest.upsertItems(items);
  }

  async getItem(itemId: string): Promise<ItemRecord> {
    const item = await this.store.getItem(itemId);
    if (!item) throw new NotFoundError('itemId', itemId);
    return item;
  }

  deleteItem(itemId: string): Promise<void> {
    return this.ingest.deleteItem(itemId);
  }

  async addFeedback(input: FeedbackInput, n: number): Promise<FeedbackResult> {
    return this.ingest.post({ ...input, userId: this.uid(input.userId) }, input.userId, n);
  }

  importFeedback(input: FeedbackInput[]): Promise<ImportResult> {
    return this.ingest.backfill(input.map((e) => ({ ...e, userId: this.uid(e.userId) })));
  }

  recommend(rawUserId: string, request: RecommendRequest): Promise<RecommendResult> {
    return this.serving.recommend(this.uid(rawUserId), rawUserId, request);
  }

  recommendSession(itemIds: string[], request: RecommendRequest): { modelVersion: number | null; recommendations: ScoredItem[] } {
    return this.serving.recommendSession(itemIds, request);
  }

  similarItems(itemId: string, n: number): ScoredItem[] {
    return this.serving.similarItems(itemId, n);
  }

  similarUsers(rawUserId: string, n: number): Promise<Array<{ userId: string; score: number }>> {
    return this.serving.similarUsers(this.uid(rawUserId), n);
  }

  popular(request: RecommendRequest): ScoredItem[] {
    return this.serving.popular(request);
  }

  profile(rawUserId: string): Promise<Profile> {
    return this.insights.profile(this.uid(rawUserId), rawUserId);
  }

  segments(): Segment[] {
    return this.insights.segments();
  }

  segmentMap(limit = 2000): SegmentMap {
    return this.insights.segmentMap(limit);
  }

  stats(): Promise<Stats> {
    return this.insights.stats();
  }

  evaluations(): Promise<Array<{ kind: string; createdAt: string; summary: Record<string, unknown> }>> {
    return this.insights.evaluations();
  }

  async deleteUser(rawUserId: string): Promise<{ deleted: number }> {
    const userId = this.uid(rawUserId);
    if (!(await this.store.getUser(userId))) throw new NotFoundError('userId', rawUserId);
    return this.privacy.deleteUser(userId, this.subject(rawUserId));
  }

  async exportUser(rawUserId: string): Promise<UserExport> {
    const profile = await this.profile(rawUserId);
    const rows = await this.store.userFeedback(this.uid(rawUserId));
    return { userId: rawUserId, profile, feedback: rows.map(({ itemId, type, value, timestamp }) => ({ itemId, type, value, timestamp })) };
  }

  async unflagUser(rawUserId: string): Promise<{ userId: string; flags: [] }> {
    const userId = this.uid(rawUserId);
    if (!(await this.profiles.unflag(userId))) throw new NotFoundError('userId', rawUserId);
    this.ingest.forget(userId);
    await this.store.audit('unflag-user', this.subject(rawUserId), {}, this.clock());
    return { userId: rawUserId, flags: [] };
  }

  async train(): Promise<{ jobId: string }> {
    const { jobId } = await this.retraining.train();
    await this.store.audit('train', null, { jobId }, this.clock());
    return { jobId };
  }

  /** Trains now and resolves once the new model serves (CLI `train`, demo, tests). */
  async trainNow(): Promise<ModelInfo> {
    await this.retraining.trainNow();
    return this.model();
  }

  model(): ModelInfo {
    const meta = this.state.current?.meta;
    return {
      version: meta?.version ?? null,
      algorithm: meta?.algorithm ?? this.config.algorithm,
      params: meta?.params ?? this.config.params,
      trainedAt: meta ? new Date(meta.trainedAt).toISOString() : null,
      metrics: meta?.metrics ?? {},
      ...this.retraining.model(),
    };
  }

  async metrics(): Promise<EngineMetrics> {
    const meta = this.state.current?.meta;
    const job = this.retraining.running;
    const feedback = await this.store.countFeedback();
    return {
      model: {
        version: meta?.version ?? null,
        ageSeconds: meta ? Math.max(0, (this.clock() - meta.trainedAt) / 1000) : null,
        training: job !== null,
        trainingProgress: job?.progress ?? null,
      },
      items: this.catalog.size,
      feedback,
      quarantinedUsers: this.profiles.quarantined,
      listCache: this.profiles.lists.counts,
    };
  }

  /** The model answers come from (null before the first), for diagnostics such as replay's; serve through the verbs above. */
  get servingModel(): Recommender | null {
    return this.state.model;
  }

  observe(observer: EngineObserver): () => void {
    return this.observers.add(observer);
  }

  async close(): Promise<void> {
    await this.replica?.close();
    // Posts already queued are committed and answered, not dropped.
    await this.ingest.flush();
    await this.privacy.close();
    await this.retraining.close();
  }

  /** What the audit log records for a user: a fingerprint, never the id. */
  private subject(rawUserId: string): string {
    return fingerprint(rawUserId, this.config.pseudonymSalt ?? '');
  }
}
