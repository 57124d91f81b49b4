import type { EvalMetrics } from '../eval/evaluate.ts';
import { table } from './io.ts';

const KEYS = [
  'algorithm', 'params', 'k', 'rmse', 'mae', 'precision', 'recall', 'f1', 'ndcg', 'map', 'hit_rate',
  'coverage', 'novelty', 'fit_seconds', 'train_rows', 'test_rows', 'users',
] as const;

/**
 * The `--json` object: exactly the contract's keys in a fixed order. Non-finite numbers (a
 * metric with no users to average over) become null, since JSON has no NaN.
 */
export function metricsJson(metrics: EvalMetrics): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = metrics[key];
    json[key] = typeof value === 'number' && !Number.isFinite(value) ? null : value;
  }
  return json;
}

export function formatMetrics(m: EvalMetrics): string {
  const at = `@${m.k}`;
  const fixed = (x: number | null) => (x === null ? '—' : Number.isFinite(x) ? x.toFixed(4) : 'n/a');
  const count = (x: number) => x.toLocaleString('en-US');
  const params = Object.entries(m.params).map(([key, value]) => `${key}=${value}`).join(' ');
  return table([
    ['algorithm', m.algorithm],
    ['params', params],
    ['train rows', count(m.train_rows)],
    ['test rows', count(m.test_rows)],
    ['users', count(m.users)],
    ['fit seconds', m.fit_seconds.toFixed(3)],
    ['rmse', fixed(m.rmse)],
    ['mae', fixed(m.mae)],
    [`precision${at}`, fixed(m.precision)],
    [`recall${at}`, fixed(m.recall)],
    [`f1${at}`, fixed(m.f1)],
    [`ndcg${at}`, fixed(m.ndcg)],
    [`map${at}`, fixed(m.map)],
    [`hit_rate${at}`, fixed(m.hit_rate)],
    [`coverage${at}`, fixed(m.coverage)],
    ['novelty', Number.isFinite(m.novelty) ? `${m.novelty.toFixed(1)} (mean popularity rank; higher = less popular)` : 'n/a'],
  ]);
}
