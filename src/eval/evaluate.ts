/**
 * One offline evaluation: fit a model on train rows, predict every test rating (rating models
 * only) and rank the full catalog for every test user. Used by `liverec eval` and the benchmarks,
 * so both report numbers computed the same way.
 */
import { Interactions } from '../data/interactions.ts';
import { InvalidInputError } from '../errors.ts';
import { createModel, isExplicit, type Algorithm, type Scored } from '../model/index.ts';
import { mae, rankingMetrics, rmse } from './metrics.ts';
import type { RatingRow } from './readers.ts';

export interface EvaluateOptions {
  train: RatingRow[];
  test: RatingRow[];
  algorithm: Algorithm;
  /** Only the params to override; the model's defaults fill in the rest. */
  params?: Record<string, unknown>;
  /** Length of every recommendation list (default 10). */
  k?: number;
  /** When set, only test rows with value ≥ relevantMin count as relevant. */
  relevantMin?: number;
  /** Called as test users are ranked, for progress reporting. */
  onProgress?: (done: number, total: number) => void;
}

/** Snake-case keys: this object is the `--json` contract that scripts parse. */
export interface EvalMetrics {
  algorithm: Algorithm;
  /** The params the model actually ran with, defaults included. */
  params: Record<string, number | string | boolean>;
  k: number;
  /** null for implicit algorithms, which predict weights rather than ratings. */
  rmse: number | null;
  mae: number | null;
  precision: number;
  recall: number;
  f1: number;
  ndcg: number;
  map: number;
  hit_rate: number;
  coverage: number;
  novelty: number;
  fit_seconds: number;
  train_rows: number;
  test_rows: number;
  /** Test users with at least one relevant item: the users ranking metrics average over. */
  users: number;
}

export interface EvalResult {
  metrics: EvalMetrics;
  /** Top-k per test user known to the model, in order of first appearance in test. */
  recommendations: Map<string, Scored[]>;
  /** One prediction per test row, in test order; null for implicit algorithms. */
  predictions: Float64Array | null;
}

export function evaluate(options: EvaluateOptions): EvalResult {
  const { train, test, algorithm, k = 10, relevantMin } = options;
  if (!Number.isInteger(k) || k < 1) throw new InvalidInputError(`k must be a positive integer, got ${k}`, 'k');
  if (test.length === 0) throw new InvalidInputError('the test set is empty: evaluation needs at least one test row', 'test');
  // Params are checked before any data is converted, so a typo fails fast on big files.
  const model = createModel(algorithm, options.params ?? {});
  const explicit = isExplicit(algorithm);
  // Implicit models see every interaction once (weight 1, repeats summed), as in the usual
  // top-N protocol; rating models keep a user's last rating of an item.
  const data = Interactions.from(
    train.map((r) => ({ userId: r.user, itemId: r.item, value: explicit ? r.value : 1 })),
    explicit ? 'last' : 'sum',
  );

  const started = performance.now();
  model.fit(data);
  const fitSeconds = (performance.now() - started) / 1000;

  let predictions: Float64Array | null = null;
  let errors: { rmse: number; mae: number } | null = null;
  if (explicit) {
    const latent = model.latent;
    if (!latent) throw new Error(`${algorithm} is explicit but not a factor model`);
    predictions = Float64Array.from(test, (r) => latent.predictOrFallback(r.user, r.item));
    const actual = test.map((r) => r.value);
    errors = { rmse: rmse(actual, predictions), mae: mae(actual, predictions) };
  }

  const relevant = new Map<string, Set<string>>();
  for (const r of test) {
    let set = relevant.get(r.user);
    if (!set) relevant.set(r.user, (set = new Set()));
    if (relevantMin === undefined || r.value >= relevantMin) set.add(r.item);
  }

  const recommendations = new Map<string, Scored[]>();
  let done = 0;
  for (const user of relevant.keys()) {
    // A user the model never saw gets no list, which rankingMetrics scores as zero.
    if (model.hasUser(user)) recommendations.set(user, model.recommend(user, { n: k }));
    if (++done % 100 === 0 || done === relevant.size) options.onProgress?.(done, relevant.size);
  }

  const ranking = rankingMetrics(
    new Map([...recommendations].map(([user, list]) => [user, list.map((s) => s.itemId)])),
    relevant,
    k,
    { catalogSize: model.itemCount, popularity: itemPopularity(data) },
  );

  return {
    metrics: {
      algorithm,
      params: { ...model.params },
      k,
      rmse: errors?.rmse ?? null,
      mae: errors?.mae ?? null,
      precision: ranking.precision,
      recall: ranking.recall,
      f1: ranking.f1,
      ndcg: ranking.ndcg,
      map: ranking.map,
      hit_rate: ranking.hitRate,
      coverage: ranking.coverage,
      novelty: ranking.novelty,
      fit_seconds: fitSeconds,
      train_rows: train.length,
      test_rows: test.length,
      users: ranking.users,
    },
    recommendations,
    predictions,
  };
}

/** Distinct users per train item: the popularity that novelty ranks against. */
function itemPopularity(data: Interactions): Map<string, number> {
  const counts = new Float64Array(data.items.size);
  for (let t = 0; t < data.size; t++) counts[data.itemIdx[t]]++;
  return new Map(Array.from(counts, (count, i) => [data.items.id(i), count]));
}
