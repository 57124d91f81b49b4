import { IdMap } from '../data/id-map.ts';
import { createModel, isExplicit, type Algorithm } from '../model/index.ts';
import type { ModelState } from '../model/format.ts';
import { History, toRow, type Row } from '../model/history.ts';
import type { UserInteraction } from '../model/types.ts';
import type { ModelMeta, Store } from '../store/types.ts';
import type { EngineConfig } from './config.ts';
import { pseudonymizer } from './pseudonym.ts';
import { buildTrainingSet, type TrainingSet } from './training-set.ts';

/** Factors learned outside liverec (Spark MLlib's ALS): raw ids and row-major vectors, row r at r·factors. */
export interface ImportedFactors {
  algorithm: Extract<Algorithm, 'als' | 'implicit-als'>;
  /** The liverec params that reproduce the outside objective (factors, reg, alpha, …). */
  params: Record<string, number | boolean>;
  users: string[];
  userFactors: Float32Array;
  items: string[];
  itemFactors: Float32Array;
  /** Recorded with the model (where it came from). */
  metrics: Record<string, unknown>;
}

export interface InstalledModel {
  meta: ModelMeta;
  /** Imported users whose stored history became their seen items (their vectors are kept as imported). */
  usersWithHistory: number;
  /** Users with stored history the import did not know, folded in from it against the imported items. */
  usersFoldedIn: number;
  /** Model items the catalog lacks: recommended all the same (the catalog filters only what it knows). */
  itemsOutsideCatalog: number;
}

/**
 * Makes imported factors the serving model of a store: saved in its model registry as the newest
 * version, so `serve` (or every server on a shared database) loads it like one of its own. The
 * stored feedback is read once, as a retrain reads it (the signals fold-in uses): an imported user's history
 * becomes the items they have seen (left out of their recommendations, used by explanations)
 * while their imported vector is kept; a stored user the import lacks is folded in against the
 * imported items. User ids pass through the engine's pseudonymizer, as `import` stores them.
 */
export async function installImportedModel(store: Store, config: EngineConfig, imported: ImportedFactors, clock: () => number = Date.now): Promise<InstalledModel> {
  const explicit = isExplicit(imported.algorithm);
  const combine = explicit ? 'last' : 'sum';
  const stored = pseudonymizer(config.pseudonymSalt);
  const users = imported.users.map(stored);
  const userIndex = IdMap.from(users);
  const itemIndex = IdMap.from(imported.items);
  const rowOf = (signals: UserInteraction[]): Row => toRow(signals.map((s) => [itemIndex.get(s.itemId), s.value]), combine);
  const rows = new Map<number, Row>();
  const unknown: Array<[string, UserInteraction[]]> = [];
  // The stored feedback as a retrain would see it; its watermark makes later feedback's users stale.
  const set = await buildTrainingSet(store, config, imported.algorithm);
  for (const [userId, signals] of byUser(set)) {
    const u = userIndex.get(userId);
    if (u >= 0) rows.set(u, rowOf(signals));
    else unknown.push([userId, signals]);
  }
  const history = new History(null);
  for (const [u, row] of rows) history.set(u, row);
  const seen = history.toCsr(users.length);
  const state: ModelState = {
    algorithm: imported.algorithm,
    params: imported.params,
    users,
    items: imported.items,
    scalars: { mean: 0, trainedItems: imported.items.length },
    arrays: {
      userFactors: imported.userFactors,
      itemFactors: imported.itemFactors,
      seenIndptr: seen.indptr,
      seenIndices: seen.indices,
      seenValues: seen.values,
    },
  };
  const model = createModel(imported.algorithm, imported.params).restore(state);
  let bytes: Uint8Array;
  try {
    for (const [userId, signals] of unknown) model.foldInUser(userId, signals);
    bytes = model.save();
  } finally {
    model.dispose();
  }
  const catalog = new Set((await store.listItems()).map((item) => item.itemId));
  const meta = await store.saveModel(
    { algorithm: imported.algorithm, params: imported.params, metrics: imported.metrics, trainedAt: clock(), feedbackWatermark: set.watermark },
    bytes,
    config.keepModels,
  );
  return {
    meta,
    usersWithHistory: rows.size,
    usersFoldedIn: unknown.length,
    itemsOutsideCatalog: imported.items.filter((itemId) => !catalog.has(itemId)).length,
  };
}

/** A training set's signals per user (its rows come one user at a time). */
function* byUser(set: TrainingSet): Generator<[string, UserInteraction[]]> {
  for (let start = 0; start < set.userIdx.length; ) {
    const u = set.userIdx[start];
    const signals: UserInteraction[] = [];
    let t = start;
    for (; t < set.userIdx.length && set.userIdx[t] === u; t++) signals.push({ itemId: set.items[set.itemIdx[t]], value: set.values[t] });
    yield [set.users[u], signals];
    start = t;
  }
}
