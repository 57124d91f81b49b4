import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.ts';
import type { RatingRow } from '../../src/eval/readers.ts';
import { splitBy } from '../../src/eval/splits.ts';
import { best, gridConfigs, parseSpace, resolveSpace, tune, type SplitView, type Trial } from '../../src/eval/tune.ts';

/** 40 users in two tastes over 30 items, 12 distinct items each: tiny, so a trial fits in milliseconds. */
function ratings(): RatingRow[] {
  const rng = new Rng(7);
  const rows: RatingRow[] = [];
  for (let u = 0; u < 40; u++) {
    const taste = u % 2;
    const items = Int32Array.from({ length: 30 }, (_, i) => i);
    rng.shuffle(items);
    for (const i of items.subarray(0, 12)) {
      const liked = i % 2 === taste;
      rows.push({ user: `u${u}`, item: `i${i}`, value: liked ? 4 + rng.int(2) : 1 + rng.int(2), timestamp: rows.length * 1000 });
    }
  }
  return rows;
}

const ROWS = ratings();
const SMALL_SVD = parseSpace('{"factors":[2,4],"iterations":[3,6],"learningRate":[0.005,0.05],"reg":[0.01,0.5]}');
const SMALL_IALS = parseSpace('{"factors":[2,4],"iterations":[2,4],"reg":[0.1,10],"alpha":[1,20]}');
const key = (r: RatingRow) => `${r.user}|${r.item}`;

describe('tune', () => {
  it('the same seed reproduces the trials; another seed draws others', () => {
    const run = (seed: number) => tune({ rows: ROWS, algorithm: 'svd', split: 'random', trials: 5, seed, space: SMALL_SVD }).trials;
    const first = run(3);
    expect(run(3)).toEqual(first.map((t) => ({ ...t, fitSeconds: expect.any(Number) })));
    expect(first).toHaveLength(5);
    expect(run(4).map((t) => t.params)).not.toEqual(first.map((t) => t.params));
  });

  it('carves validation from train only: validation, fit and test are disjoint, and test is eval’s split', () => {
    for (const [split, metric] of [['random', 'rmse'], ['stratified', 'ndcg'], ['temporal', 'rmse'], ['leave-last', 'ndcg']] as const) {
      let seen: SplitView | undefined;
      const result = tune({ rows: ROWS, algorithm: 'svd', split, metric, trials: 2, seed: 5, space: SMALL_SVD, onSplit: (s) => (seen = s) });
      const { fit, validation, train, test } = seen!;
      const keys = (rows: RatingRow[]) => new Set(rows.map(key));
      const testKeys = keys(test);
      expect(validation.some((r) => testKeys.has(key(r)))).toBe(false);
      expect(fit.some((r) => testKeys.has(key(r)))).toBe(false);
      expect(validation.some((r) => keys(fit).has(key(r)))).toBe(false);
      expect(new Set([...fit, ...validation])).toEqual(new Set(train));
      expect(new Set([...train, ...test])).toEqual(new Set(ROWS));
      expect(result.sizes).toEqual({ train: train.length, fit: fit.length, validation: validation.length, test: test.length });
      expect(validation.length).toBeGreaterThan(0);
      // The held-out test set is the one `liverec eval --data --split` scores (same defaults, same seed).
      const fraction = { random: 0.2, stratified: 0.25, temporal: 0.2, 'leave-last': undefined }[split];
      expect(test).toEqual(splitBy(split, ROWS, { testFraction: fraction, seed: 5, n: 1 }).test);
      expect(result.test.test_rows).toBe(test.length);
      expect(result.test.train_rows).toBe(train.length);
    }
  });

  it('picks the argmin of rmse and the argmax of ndcg, and refits it for the test metrics', () => {
    const svd = tune({ rows: ROWS, algorithm: 'svd', split: 'random', trials: 6, seed: 1, space: SMALL_SVD });
    expect(svd.metric).toBe('rmse');
    const rmses = svd.trials.map((t) => t.validation!);
    expect(svd.bestIndex).toBe(rmses.indexOf(Math.min(...rmses)));
    expect(svd.bestParams).toMatchObject(svd.trials[svd.bestIndex].params);
    expect(svd.test.params).toEqual(svd.bestParams);

    const ials = tune({ rows: ROWS, algorithm: 'implicit-als', split: 'stratified', trials: 6, seed: 1, space: SMALL_IALS });
    expect(ials.metric).toBe('ndcg');
    const ndcgs = ials.trials.map((t) => t.validation!);
    expect(ials.bestIndex).toBe(ndcgs.indexOf(Math.max(...ndcgs)));
    expect(new Set(ndcgs).size).toBeGreaterThan(1); // the search saw real differences
  });

  it('best() skips failed trials and keeps the first of equals', () => {
    const trial = (validation: number | null): Trial => ({ params: {}, validation, fitSeconds: 0 });
    expect(best([trial(null), trial(0.9), trial(0.8), trial(0.8)], 'rmse')).toBe(2);
    expect(best([trial(0.1), trial(null), trial(0.3), trial(0.3)], 'ndcg')).toBe(2);
    expect(best([trial(null)], 'map')).toBe(-1);
  });

  it('grid search enumerates the Cartesian product, each point once', () => {
    // [5, 10] is a range (two numbers): 4 points, rounded to integers; [0, 1, 2] are choices.
    const space = parseSpace('{"neighbors":[5,10],"shrink":[0,1,2]}');
    const result = tune({ rows: ROWS, algorithm: 'item-knn', split: 'stratified', search: 'grid', seed: 1, space });
    const expected = [5, 7, 8, 10].flatMap((neighbors) => [0, 1, 2].map((shrink) => ({ neighbors, shrink })));
    expect(result.trials.map((t) => t.params)).toEqual(expected);
  });

  it('a grid takes 4 log-spaced points of a wide range, rounded for integer params', () => {
    expect(gridConfigs(parseSpace('{"reg":[0.01,10]}')).map((c) => c.reg)).toEqual([0.01, 0.1, 1, 10]);
    expect(gridConfigs(parseSpace('{"reg":[1,4]}')).map((c) => c.reg)).toEqual([1, 2, 3, 4]);
    expect(gridConfigs(parseSpace('{"factors":[1,2]}')).map((c) => c.factors)).toEqual([1, 2]);
    expect(gridConfigs(resolveSpace('svd', parseSpace('{"factors":[8]}')))).toHaveLength(1 * 3 * 4 * 4);
  });

  it('refuses a grid larger than the trials allowed, before fitting anything', () => {
    const space = parseSpace('{"neighbors":[5,10,20],"shrink":[0,1,2]}');
    expect(() => tune({ rows: ROWS, algorithm: 'item-knn', split: 'random', search: 'grid', trials: 8, space })).toThrow(/grid has 9 points but only 8/);
  });

  it('random search does not repeat a configuration, and stops when the space runs out', () => {
    const result = tune({ rows: ROWS, algorithm: 'item-knn', split: 'stratified', trials: 10, seed: 2, space: parseSpace('{"neighbors":[5,10,20],"shrink":[0]}') });
    expect(result.trials).toHaveLength(3);
    expect(new Set(result.trials.map((t) => JSON.stringify(t.params))).size).toBe(3);
  });

  it('random search tries the model defaults first when they lie inside the space', () => {
    const inside = tune({ rows: ROWS, algorithm: 'item-knn', split: 'stratified', trials: 3, seed: 2, space: parseSpace('{"neighbors":[10,50,100],"shrink":[0,5,10]}') });
    expect(inside.trials[0].params).toEqual({ neighbors: 50, shrink: 0 });
    const outside = tune({ rows: ROWS, algorithm: 'item-knn', split: 'stratified', trials: 3, seed: 2, space: parseSpace('{"neighbors":[10,20,30]}') });
    expect(outside.trials.map((t) => t.params)).not.toContainEqual({ neighbors: 50 });
  });

  it('refuses rmse for a ranking-only algorithm', () => {
    expect(() => tune({ rows: ROWS, algorithm: 'implicit-als', split: 'random', metric: 'rmse' })).toThrow(/rmse needs a rating model/);
  });
});

describe('parseSpace', () => {
  it('reads two numbers as a range (log when wide and positive) and anything else as choices', () => {
    expect(parseSpace('{"reg":[0.01,1],"a":[1,5],"b":[0,100],"factors":[32,64,128],"c":[7],"d":["x","y"]}')).toEqual({
      reg: { kind: 'range', low: 0.01, high: 1, log: true },
      a: { kind: 'range', low: 1, high: 5, log: false },
      b: { kind: 'range', low: 0, high: 100, log: false },
      factors: { kind: 'choice', values: [32, 64, 128] },
      c: { kind: 'choice', values: [7] },
      d: { kind: 'choice', values: ['x', 'y'] },
    });
  });

  it.each([
    ['{reg:1}', /not valid JSON/],
    ['[1,2]', /expected a JSON object/],
    ['{"reg":[]}', /reg must be a non-empty array/],
    ['{"reg":0.1}', /reg must be a non-empty array/],
    ['{"reg":[1,0.1]}', /reg range \[1, 0.1\] must be \[low, high\]/],
    ['{"reg":[{"x":1}]}', /reg may only hold/],
  ])('rejects %s', (text, message) => {
    expect(() => parseSpace(text)).toThrow(message);
  });

  it('checks params against the model schema, naming the param', () => {
    expect(() => resolveSpace('svd', parseSpace('{"neighbors":[5,10]}'))).toThrow(/neighbors/);
    expect(() => resolveSpace('svd', parseSpace('{"factors":[0,8,16]}'))).toThrow(/factors/);
    expect(() => resolveSpace('als', parseSpace('{"reg":[-1,1]}'))).toThrow(/reg/);
  });
});
