/**
 * Accuracy on MovieLens ml-latest-small with every algorithm's *default* parameters, using the
 * same code path as `liverec eval --data … --split …` (src/eval/evaluate.ts):
 *   rating prediction — seeded random 80/20 split (seed 42): RMSE / MAE;
 *   top-N — per-user stratified 75/25 split (seed 42), k = 10, full catalog, every test rating
 *   relevant: precision / recall / NDCG / MAP / hit rate / coverage.
 * Writes bench/results/accuracy.json.
 */
import { evaluate } from '../src/eval/evaluate.ts';
import { readInteractions } from '../src/eval/readers.ts';
import { splitBy } from '../src/eval/splits.ts';
import type { Algorithm } from '../src/model/types.ts';
import { ML_SMALL, writeResult } from './lib.ts';

const rows = readInteractions(ML_SMALL);
const rating = splitBy('random', rows, { testFraction: 0.2, seed: 42 });
const ranking = splitBy('stratified', rows, { testFraction: 0.25, seed: 42 });
// Implicit algorithms see each rating as one interaction (the published top-N protocol).
const asImplicit = (split: typeof ranking) => split.train.map((r) => ({ ...r, value: 1 }));

const results: Record<string, unknown>[] = [];
for (const algorithm of ['svd', 'als'] as Algorithm[]) {
  const { metrics } = evaluate({ train: rating.train, test: rating.test, algorithm });
  results.push({ protocol: 'random 80/20', ...metrics });
  console.error(`${algorithm}: rmse ${metrics.rmse?.toFixed(4)} mae ${metrics.mae?.toFixed(4)} fit ${metrics.fit_seconds.toFixed(2)} s`);
}
for (const algorithm of ['implicit-als', 'item-knn', 'ease', 'popular'] as Algorithm[]) {
  const { metrics } = evaluate({ train: asImplicit(ranking), test: ranking.test, algorithm });
  results.push({ protocol: 'stratified 75/25', ...metrics });
  console.error(`${algorithm}: P@10 ${metrics.precision.toFixed(4)} NDCG@10 ${metrics.ndcg.toFixed(4)} fit ${metrics.fit_seconds.toFixed(2)} s`);
}
writeResult('accuracy', {
  dataset: 'ml-latest-small (100,836 ratings, 610 users, 9,742 movies)',
  method: 'liverec eval with default parameters; seed 42 for splits and models',
  results,
});
