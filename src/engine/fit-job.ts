import { Interactions } from '../data/interactions.ts';
import { createModel, loadModel } from '../model/index.ts';
import type { Recommender } from '../model/types.ts';
import { NotFoundError } from '../store/errors.ts';
import { openStore } from '../store/open.ts';
import type { ItemRecord, ModelMeta, Store } from '../store/types.ts';
import type { CoreBank } from '../wasm/core-bank.ts';
import { buildWantedIndex } from './ann.ts';
import { Catalog } from './catalog.ts';
import { CategoryMeans, foldInItemFromFeedback } from './cold-items.ts';
import type { EngineConfig } from './config.ts';
import { Segments } from './segments.ts';
import { buildTrainingSet, type TrainingSet } from './training-set.ts';

/**
 * Where a job reads and writes: the database (a file or a PostgreSQL URL), which the training thread opens with its own
 * connection (so the full scan of the log, the catalog read and the model write never touch the
 * serving thread), or — for a store with no file, such as `:memory:` — data the caller read itself,
 * in which case the caller also saves the model.
 */
export type JobSource =
  | { db: string; busyTimeoutMs?: number }
  | { set: TrainingSet; items: ItemRecord[] };

export interface FitRequest {
  algorithm: string;
  params: Record<string, unknown>;
  config: EngineConfig;
  source: JobSource;
  /** Stamped on the saved model. */
  trainedAt: number;
}

/** What a fit leaves: the model (bytes, and its registry entry when the thread saved it) and what serving derives from it. */
export interface Trained {
  outcome: 'trained';
  bytes: Uint8Array;
  meta: Omit<ModelMeta, 'version'>;
  /** The registry entry, when the thread saved the model itself (a file-backed store). */
  saved: ModelMeta | null;
  segments: ReturnType<Segments['toData']> | null;
  categories: ReturnType<CategoryMeans['toData']> | null;
}

/** `empty`: no usable feedback (none stored, or all of it from quarantined users). */
export type FitResult = Trained | { outcome: 'empty' };

/** Erasure of users from the newest saved model: what the serving model already did, repeated on the stored copy. */
export interface ScrubRequest {
  config: EngineConfig;
  source: { db: string; busyTimeoutMs?: number };
  users: string[];
  /** Items the users touched: re-solved from the feedback that remains. */
  items: string[];
}

/** A model another server trained (a shared store), to be made ready to serve here. */
export interface PrepareRequest {
  config: EngineConfig;
  source: { db: string; busyTimeoutMs?: number };
  version: number;
}

/** A scrub's outcome: the rewritten model's registry entry (null when none is saved) and whether the WAL was emptied. */
export interface Scrubbed {
  saved: ModelMeta | null;
  checkpointed: boolean;
}

/**
 * Where a fit is: `fitting` counts the model's steps (`done` of `total`, see each algorithm's
 * `fit`); `saving` follows the last step, with done = total.
 */
export interface FitProgress {
  phase: 'fitting' | 'saving';
  done: number;
  total: number;
}

/** Runs jobs somewhere (the Trainer: on a worker thread), one at a time, reporting fit progress as it goes. */
export interface FitRunner {
  fit(request: FitRequest, onProgress?: (progress: FitProgress) => void): Promise<FitResult>;
  scrub(request: ScrubRequest): Promise<Scrubbed>;
  prepare(request: PrepareRequest): Promise<Trained>;
  /** Starts the thread ahead of the first job (a runner that has none may omit it). */
  warm?(): void;
  close(): Promise<void>;
}

/**
 * Fits a fresh model and prepares everything serving needs from it, so the serving thread only
 * loads the bytes and swaps: the training set (read here from the store when the source is a
 * file), the fit itself on `params.threads` threads, cold catalog items placed from their
 * categories, segments, serialisation, and the registry write. The model is disposed at the end,
 * its core given back to `cores` for the next fit (a training thread lives as long as the engine).
 */
export async function runFit(request: FitRequest, cores?: CoreBank, onProgress?: (progress: FitProgress) => void): Promise<FitResult> {
  const start = performance.now();
  const { algorithm, params, config, source } = request;
  return withStore(source, async (store) => {
    const set = store ? await buildTrainingSet(store, config, algorithm as EngineConfig['algorithm']) : (source as { set: TrainingSet }).set;
    if (set.values.length === 0) return { outcome: 'empty' };
    const fitStart = performance.now();
    const catalog = new Catalog(store ? await store.listItems() : (source as { items: ItemRecord[] }).items);
    const data = Interactions.fromArrays(set.users, set.items, set.userIdx, set.itemIdx, set.values);
    const sizes = { users: set.users.length, items: set.items.length, interactions: set.values.length };
    const model = createModel(algorithm, params, { cores });
    try {
      let total = 1;
      const fitting = (p: { done: number; total: number }) => {
        total = p.total;
        onProgress!({ phase: 'fitting', ...p });
      };
      await model.fitAsync(data, { onProgress: onProgress && fitting });
      onProgress?.({ phase: 'saving', done: total, total });
      const categories = model.latent ? CategoryMeans.of(model.latent, catalog) : null;
      categories?.placeAll(model, catalog);
      const indexStart = performance.now();
      // After the cold items are placed, so the index holds them too.
      const indexed = await buildWantedIndex(model, catalog, config.ann);
      const indexSeconds = (performance.now() - indexStart) / 1000;
      const segments = Segments.compute(model, catalog, config.segments, Number(model.params.seed ?? 42));
      const bytes = model.save();
      const meta = {
        algorithm,
        params: { ...model.params },
        // readSeconds: the scan of the log into a training set; fitSeconds: the fit, cold items, the
        // approximate top-N index (indexSeconds of it, when built), segments and serialisation.
        metrics: {
          readSeconds: (fitStart - start) / 1000, fitSeconds: (performance.now() - fitStart) / 1000, ...sizes, ...(indexed && { indexSeconds }),
        },
        trainedAt: request.trainedAt, feedbackWatermark: set.watermark,
      };
      const saved = store ? await store.saveModel(meta, bytes, config.keepModels) : null;
      return { outcome: 'trained', bytes, meta, saved, segments: segments?.toData() ?? null, categories: categories?.toData() ?? null };
    } finally {
      model.dispose();
    }
  });
}

/**
 * Reads a saved model version and derives what serving needs from it (category means, segments),
 * as a fit would have: a server sharing the store with the one that trained it loads it this way,
 * so the reads and the segment clustering stay off its serving thread.
 */
export async function runPrepare({ config, source, version }: PrepareRequest, cores?: CoreBank): Promise<Trained> {
  return withStore(source, async (store) => {
    const saved = (await store!.latestModels()).find((m) => m.version === version);
    if (!saved) throw new NotFoundError('version', String(version), `model version ${version} is no longer stored`);
    const bytes = await store!.loadModelBytes(version);
    const model = loadModel(bytes, { cores });
    try {
      const catalog = new Catalog(await store!.listItems());
      const categories = model.latent ? CategoryMeans.of(model.latent, catalog) : null;
      // Items upserted since that server read its catalog get their category's vector here, not on the serving thread.
      const placed = categories ? categories.placeAll(model, catalog) : 0;
      // A model saved without the index this server's config wants (another setting, an older version) gets it here.
      const indexed = await buildWantedIndex(model, catalog, config.ann);
      const segments = Segments.compute(model, catalog, config.segments, Number(model.params.seed ?? 42));
      const { version: _, ...meta } = saved;
      return {
        outcome: 'trained', bytes: placed > 0 || indexed ? model.save() : bytes, meta, saved,
        segments: segments?.toData() ?? null, categories: categories?.toData() ?? null,
      };
    } finally {
      model.dispose();
    }
  });
}

/**
 * Removes erased users from the newest saved model and re-solves the items they touched, saves
 * it as the only version (older ones still hold the users), then empties the WAL so no old page
 * keeps them. The serving model did the same in the request; this keeps the multi-megabyte
 * re-serialisation, and a checkpoint that may wait for a long read to end, off the serving thread.
 */
export async function runScrub({ config, source, users, items }: ScrubRequest, cores?: CoreBank): Promise<Scrubbed> {
  return withStore(source, async (store) => {
    const meta = (await store!.latestModels())[0];
    let saved: ModelMeta | null = null;
    if (meta) {
      const model = loadModel(await store!.loadModelBytes(meta.version), { cores });
      try {
        await scrubModel(model, store!, config, users, items, new Set(await store!.flaggedUsers()));
        const { algorithm, params, metrics, trainedAt, feedbackWatermark } = meta;
        saved = await store!.saveModel({ algorithm, params, metrics, trainedAt, feedbackWatermark }, model.save(), 1);
      } finally {
        model.dispose();
      }
    }
    return { saved, checkpointed: (await store!.maintenance?.checkpoint()) ?? true };
  });
}

/** Forgets `users` and re-solves the trained `items` they touched from the store's remaining feedback. */
export async function scrubModel(model: Recommender, store: Store, config: EngineConfig, users: string[], items: Iterable<string>, flagged: Set<string>): Promise<void> {
  for (const userId of users) if (model.hasUser(userId)) model.forgetUser(userId);
  const latent = model.latent;
  if (!latent) return;
  for (const itemId of items) {
    if (!model.hasItem(itemId)) continue;
    const events = (await store.itemFeedback(itemId)).filter((e) => !flagged.has(e.userId));
    if (events.length > 0) foldInItemFromFeedback(model as Recommender & { latent: typeof latent }, events, config, () => true);
    else latent.setItemVector(itemId, new Float32Array(latent.factors));
  }
}

async function withStore<T>(source: JobSource, fn: (store: Store | null) => Promise<T>): Promise<T> {
  const store = 'db' in source ? await openStore(source.db, { busyTimeoutMs: source.busyTimeoutMs }) : null;
  try {
    return await fn(store);
  } finally {
    await store?.close();
  }
}
