import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';
import { loadModel, loadModelInSlices } from '../model/index.ts';
import type { Recommender } from '../model/types.ts';
import type { ModelMeta, Store } from '../store/types.ts';
import type { CoreBank } from '../wasm/core-bank.ts';
import { settleIndex, wantsIndex } from './ann.ts';
import { Baseline } from './baseline.ts';
import type { Catalog } from './catalog.ts';
import { CategoryMeans } from './cold-items.ts';
import type { EngineConfig } from './config.ts';
import type { FitProgress, FitRunner, JobSource, Trained } from './fit-job.ts';
import type { LivingProfiles } from './living.ts';
import type { Observers } from './observers.ts';
import { Segments } from './segments.ts';
import type { ServingModel, ServingState } from './serving-state.ts';
import { buildTrainingSet } from './training-set.ts';
import type { ModelInfo, TrainingPhase } from './types.ts';
import type { Warnings } from './warnings.ts';

/** The running retrain. */
interface TrainingJob {
  jobId: string;
  startedAt: number;
  /** The newest feedback id when the job was asked for: it trains on at least this much. */
  covers: Promise<number>;
  done: Promise<void>;
  progress: number;
  phase: TrainingPhase;
}

/** A shared store: another server holds the retrain lock; its model reaches this one when saved. */
export class TrainingElsewhereError extends Error {
  constructor() {
    super('another server is retraining on this database; its model will be loaded here once saved');
    this.name = 'TrainingElsewhereError';
  }
}

/** Why a retrain ended without a model: nothing usable is stored (not a failure of the engine). */
export class NothingToTrainError extends InvalidInputError {
  constructor() {
    super('nothing to train on: no usable feedback is stored (none yet, or only from quarantined users)', 'feedback');
  }
}

/**
 * Retraining: when to retrain (every `retrainEvery` events, every `retrainMinutes`), the job on
 * the training thread, and the swap-in. State owned: the running job and the event count since
 * the last one. A retrain is requested, never awaited by ingest, and can never throw into a
 * request or out of the process: failures become warnings and metrics. The serving thread only
 * loads the finished model's bytes and swaps a pointer; the scan of the log, the fit, cold-item
 * placement, segments and the registry write happen on the training thread.
 */
export class Retraining {
  private job: TrainingJob | null = null;
  private eventsSinceTrain = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A model another server saved, being loaded here (one at a time). */
  private adopting: Promise<void> | null = null;
  /** Called after each swap with the new model (privacy re-applies erasures that raced the job). */
  onSwap: (serving: ServingModel) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly serving: ServingState,
    private readonly profiles: LivingProfiles,
    private readonly catalog: Catalog,
    private readonly cores: CoreBank,
    private readonly trainer: FitRunner,
    private readonly observers: Observers,
    private readonly warnings: Warnings,
    private readonly clock: () => number,
  ) {
    if (config.retrainMinutes > 0) {
      this.timer = setInterval(() => this.eventsSinceTrain > 0 && this.request(), config.retrainMinutes * 60_000);
      this.timer.unref();
    }
  }

  get running(): TrainingJob | null {
    return this.job;
  }

  /** Ingest stored `count` new events: past `retrainEvery`, a retrain is requested. */
  noteEvents(count: number): void {
    this.eventsSinceTrain += count;
    if (this.config.retrainEvery > 0 && this.eventsSinceTrain >= this.config.retrainEvery) this.request();
  }

  /** Starts a retrain unless one runs (then that one is returned). Never throws. */
  request(): TrainingJob {
    if (this.job) return this.job;
    const jobId = randomUUID();
    const began = performance.now();
    this.eventsSinceTrain = 0;
    const covers = this.store.maxFeedbackId();
    covers.catch(() => undefined);
    const job: TrainingJob = { jobId, startedAt: this.clock(), covers, done: Promise.resolve(), progress: 0, phase: 'starting' };
    this.job = job;
    const seconds = () => (performance.now() - began) / 1000;
    job.done = this.run(job)
      .then(
        () => this.observers.notify((o) => o.training?.('success', seconds())),
        (error: Error) => {
          if (error instanceof TrainingElsewhereError) {
            this.observers.notify((o) => o.training?.('skipped', seconds()));
          } else if (error instanceof NothingToTrainError) {
            this.warnings.add(`retrain skipped at ${new Date(this.clock()).toISOString()}: ${error.message}`);
            this.observers.notify((o) => o.training?.('skipped', seconds()));
          } else {
            this.warnings.add(`training job ${jobId} failed: ${error.message}`);
            this.observers.notify((o) => o.training?.('failure', seconds()));
          }
          throw error;
        },
      )
      .finally(() => {
        if (this.job === job) this.job = null;
        // Events that arrived while it ran and would have triggered a retrain of their own.
        if (this.config.retrainEvery > 0 && this.eventsSinceTrain >= this.config.retrainEvery) this.request();
      });
    // Background jobs report through warnings and metrics; only callers who await `done` see the error.
    job.done.catch(() => undefined);
    return job;
  }

  /** An operator's request (POST /v1/model/train): refused when nothing at all is stored, else started. */
  async train(): Promise<{ jobId: string }> {
    if (!this.job && (await this.store.countFeedback()) === 0) throw new NothingToTrainError();
    return { jobId: this.request().jobId };
  }

  /**
   * Trains on everything stored now and resolves once that model serves (CLI `train`, demo,
   * tests); rejects with the job's error. A running job is joined when it already covers all
   * stored feedback, else awaited and followed by a fresh one.
   */
  async trainNow(): Promise<void> {
    const running = this.job;
    if (running && (await running.covers.catch(() => -1)) < (await this.store.maxFeedbackId())) await running.done.catch(() => undefined);
    await this.request().done;
  }

  /**
   * A shared store: another server saved a model (a retrain, or a scrub after an erasure). The
   * newest version is made ready on the training thread and swapped in unless this server already
   * serves it or a newer one. Calls made while one load runs join it.
   */
  adoptLatest(): Promise<void> {
    this.adopting ??= this.adopt().finally(() => (this.adopting = null));
    return this.adopting;
  }

  /** Loads the newest readable saved model (at startup); with none readable, retrains from the log. */
  async loadLatest(): Promise<void> {
    const saved = await this.store.latestModels();
    for (const meta of saved) {
      try {
        const model = loadModel(await this.store.loadModelBytes(meta.version), { cores: this.cores });
        const categories = model.latent ? CategoryMeans.of(model.latent, this.catalog) : null;
        const segments = Segments.compute(model, this.catalog, this.config.segments, Number(model.params.seed ?? 42));
        await this.swap(model, meta, segments, categories);
        this.indexLater(meta);
        return;
      } catch (error) {
        this.warnings.add(`model version ${meta.version} could not be loaded (${(error as Error).message}); trying an older one`);
      }
    }
    // Every saved model was unreadable: retrain from the (intact) feedback log rather than serve popularity forever.
    if (saved.length > 0 && (await this.store.countFeedback()) > 0) {
      this.warnings.add('no saved model could be loaded; retraining from the stored feedback');
      this.request();
    }
  }

  model(): Pick<ModelInfo, 'status' | 'training'> {
    const job = this.job;
    return {
      status: job ? 'training' : this.serving.model ? 'ready' : 'empty',
      ...(job && { training: { jobId: job.jobId, startedAt: new Date(job.startedAt).toISOString(), progress: job.progress, phase: job.phase } }),
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.trainer.close();
    await this.job?.done.catch(() => undefined);
  }

  private async run(job: TrainingJob): Promise<void> {
    // On a shared store one server retrains at a time; the others load its model when saved.
    const replication = this.store.replication;
    const release = replication ? await replication.tryLock('liverec:retrain') : null;
    if (replication && !release) throw new TrainingElsewhereError();
    // Items upserted from here on may be missing from the catalog the training thread reads.
    const upserted = this.catalog.record();
    try {
      await this.fitAndSwap(job, upserted.ids);
    } finally {
      upserted.stop();
      await release?.().catch(() => undefined);
    }
  }

  private async adopt(): Promise<void> {
    const latest = (await this.store.latestModels())[0];
    const location = this.store.location();
    if (!latest || !location || latest.version <= (this.serving.current?.meta.version ?? 0)) return;
    const upserted = this.catalog.record();
    try {
      const prepared = await this.trainer.prepare({ config: this.config, source: { db: location }, version: latest.version });
      // A retrain of this server's own may have swapped in something newer meanwhile.
      if (prepared.saved!.version <= (this.serving.current?.meta.version ?? 0)) return;
      await this.swapIn(prepared, upserted.ids);
    } finally {
      upserted.stop();
    }
  }

  /**
   * A model loaded at startup without the index the setting wants (saved by an older version, or
   * under `ann: off`) is answered exactly meanwhile; the training thread builds the index on the
   * stored copy and the result is swapped in, unless a newer model serves by then.
   */
  private indexLater(meta: ModelMeta): void {
    const location = this.store.location();
    const model = this.serving.model;
    if (!location || !model?.latent || model.latent.indexed || !wantsIndex(this.config.ann, model.itemCount)) return;
    const upserted = this.catalog.record();
    this.trainer
      .prepare({ config: this.config, source: { db: location }, version: meta.version })
      .then((prepared) => (this.serving.current?.meta.version === meta.version ? this.swapIn(prepared, upserted.ids) : undefined))
      .catch((error: Error) => this.warnings.add(`model version ${meta.version} is answered without its approximate index: ${error.message}`))
      .finally(() => upserted.stop());
  }

  private async fitAndSwap(job: TrainingJob, upserted: Set<string>): Promise<void> {
    const { algorithm, params } = this.config;
    const location = this.store.location();
    // A file-backed store is read by the training thread on its own connection; only a store that
    // cannot be opened twice (in memory) is read here.
    const source: JobSource = location
      ? { db: location }
      : { set: await buildTrainingSet(this.store, this.config, algorithm), items: await this.store.listItems() };
    const result = await this.trainer.fit(
      { algorithm, params, config: this.config, source, trainedAt: job.startedAt },
      (progress) => this.reportProgress(job, progress),
    );
    if (result.outcome === 'empty') throw new NothingToTrainError();
    await this.swapIn(result, upserted);
  }

  /** Keeps the job's latest progress (never going back) for model() and tells observers. */
  private reportProgress(job: TrainingJob, { phase, done, total }: FitProgress): void {
    if (this.job !== job) return;
    job.progress = Math.max(job.progress, total > 0 ? Math.min(1, done / total) : 0);
    job.phase = phase;
    this.observers.notify((o) => o.trainingProgress?.(job.progress, phase));
  }

  /** Loads the new model in slices (requests are answered meanwhile), then swaps. */
  private async swapIn(result: Trained, upserted: Set<string>): Promise<void> {
    const model = await loadModelInSlices(result.bytes, { cores: this.cores });
    let meta: ModelMeta;
    try {
      meta = result.saved ?? (await this.store.saveModel(result.meta, result.bytes, this.config.keepModels));
    } catch (error) {
      model.dispose();
      throw error;
    }
    const segments = result.segments ? Segments.fromData(result.segments) : null;
    const categories = result.categories ? CategoryMeans.fromData(result.categories) : null;
    await this.swap(model, meta, segments, categories, upserted);
  }

  /** `upserted`: the catalog items to place if the model lacks them (all of them when omitted, at startup). */
  private async swap(model: Recommender, meta: ModelMeta, segments: Segments | null, categories: CategoryMeans | null, upserted?: Set<string>): Promise<void> {
    let behind: Set<string>;
    try {
      behind = await this.profiles.behind(meta.feedbackWatermark);
    } catch (error) {
      model.dispose();
      throw error;
    }
    // A model made ready in the background (indexLater) must not replace a newer one swapped in meanwhile.
    if (this.serving.current && meta.version < this.serving.current.meta.version) {
      model.dispose();
      return;
    }
    // From here to the end, one turn: no request sees the new model before its stale users are marked.
    // Before anything is folded into the new model: drift is measured from here.
    const baseline = model.latent ? Baseline.of(model.latent) : null;
    const serving = { model, meta, baseline, segments, categories };
    settleIndex(model, this.catalog, this.config.ann, upserted ?? this.catalog.retired());
    this.serving.swap(serving);
    this.profiles.swapped(behind);
    // Items the catalog gained after the training thread read it.
    categories?.placeAll(model, this.catalog, upserted);
    this.onSwap(serving);
  }
}
