import { describe, expect, it } from 'vitest';
import { Interactions } from '../../src/data/interactions.ts';
import { createModel, isExplicit, loadModel } from '../../src/model/index.ts';
import type { Algorithm } from '../../src/model/types.ts';
import { InvalidInputError, UnknownIdError } from '../../src/errors.ts';
import { checkerboard } from '../fixtures/checkerboard.ts';

/**
 * Small, fast settings: the contract is about behaviour, not accuracy. Two factors are exactly
 * what the checkerboard's two parity classes need, so the structure is all a model can learn.
 */
const PARAMS: Record<Exclude<Algorithm, 'popular'>, Record<string, unknown>> = {
  als: { factors: 2, iterations: 10, reg: 0.05 },
  'implicit-als': { factors: 2, iterations: 10, reg: 0.1, alpha: 10 },
  svd: { factors: 2, iterations: 200, learningRate: 0.02, reg: 0.01 },
  'item-knn': { neighbors: 10 },
  ease: { lambda: 1 },
};

/** Every algorithm, and the variants that models imported from Spark MLlib use (no biases; reg × positives). */
const CASES: Record<string, { algorithm: Algorithm; params: Record<string, unknown> }> = {
  ...Object.fromEntries(Object.entries(PARAMS).map(([algorithm, params]) => [algorithm, { algorithm: algorithm as Algorithm, params }])),
  'als without biases': { algorithm: 'als', params: { ...PARAMS.als, biases: false } },
  'implicit-als with weighted reg': { algorithm: 'implicit-als', params: { ...PARAMS['implicit-als'], weightedReg: true } },
};

const SIZE = 12;

function fittedWith(algorithm: Algorithm, params = PARAMS[algorithm as keyof typeof PARAMS] ?? {}) {
  const explicit = isExplicit(algorithm);
  const data = Interactions.from(checkerboard(SIZE, explicit), explicit ? 'last' : 'sum');
  return { model: createModel(algorithm, params).fit(data), data };
}

describe.each(Object.keys(CASES))('recommender contract: %s', (name) => {
  const { algorithm, params } = CASES[name];
  const fitted = () => fittedWith(algorithm, params);
  it('recommends the withheld diagonal item first for every user (checkerboard)', () => {
    const { model } = fitted();
    for (let u = 0; u < SIZE; u++) {
      expect(model.recommend(`u${u}`, { n: 1 })[0].itemId).toBe(`i${u}`);
    }
  });

  it('never returns seen or excluded items, honours the filter, sorts by score', () => {
    const { model } = fitted();
    const seen = new Set(model.userHistory('u0').map((x) => x.itemId));
    const recs = model.recommend('u0', { n: SIZE, exclude: ['i0'], filter: (id) => id !== 'i1' });
    const ids = recs.map((r) => r.itemId);
    expect(ids).not.toContain('i0');
    expect(ids).not.toContain('i1');
    for (const id of ids) expect(seen.has(id)).toBe(false);
    const candidates = [...Array(SIZE).keys()].map((i) => `i${i}`).filter((id) => !seen.has(id) && id !== 'i0' && id !== 'i1');
    expect(ids.length).toBe(candidates.length);
    for (let t = 1; t < recs.length; t++) expect(recs[t - 1].score).toBeGreaterThanOrEqual(recs[t].score);
    const withSeen = model.recommend('u0', { n: SIZE, excludeSeen: false });
    expect(withSeen.length).toBe(SIZE);
  });

  it('is deterministic for a seed and saves → loads bit-exact', () => {
    const a = fitted().model.save();
    const b = fitted().model.save();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const loaded = loadModel(a);
    expect(Buffer.from(loaded.save()).equals(Buffer.from(a))).toBe(true);
    expect(loaded.recommend('u3', { n: 5 })).toEqual(fitted().model.recommend('u3', { n: 5 }));
  });

  it('folds in a new user from a history and personalises at once', () => {
    const { model } = fitted();
    // Likes only even items (except i0): the top recommendation must be i0.
    const history = [2, 4, 6, 8].map((i) => ({ itemId: `i${i}`, value: isExplicit(algorithm) ? 5 : 1 }));
    model.foldInUser('newcomer', history);
    expect(model.hasUser('newcomer')).toBe(true);
    const recs = model.recommend('newcomer', { n: 3 });
    expect(recs.map((r) => r.itemId)).not.toContain('i2');
    expect(Number(recs[0].itemId.slice(1)) % 2).toBe(0);
    expect(model.recommendFor(history, { n: 3 })).toEqual(recs);
    expect(model.userHistory('newcomer').map((x) => x.itemId)).toEqual(['i2', 'i4', 'i6', 'i8']);
    expect(model.historyLength('newcomer')).toBe(4);
    expect(model.historyLength('u0')).toBe(model.userHistory('u0').length);
    expect(model.historyLength('nobody')).toBe(0);
  });

  it('explains a recommendation with items the user interacted with', () => {
    const { model } = fitted();
    const top = model.recommend('u1', { n: 1 })[0];
    const explanation = model.explain('u1', top.itemId, 3);
    const history = new Set(model.userHistory('u1').map((x) => x.itemId));
    expect(explanation.contributions.length).toBeGreaterThan(0);
    for (const c of explanation.contributions) expect(history.has(c.itemId)).toBe(true);
    expect(explanation.contributions[0].weight).toBeGreaterThan(0);
  });

  it('finds similar items and users, never the item or user itself', () => {
    const { model } = fitted();
    const similar = model.similarItems('i2', 3);
    expect(similar).toHaveLength(3);
    expect(similar.map((s) => s.itemId)).not.toContain('i2');
    // Items of the same parity are liked by the same users.
    for (const s of similar) expect(Number(s.itemId.slice(1)) % 2).toBe(0);
    const users = model.similarUsers('u2', 3);
    expect(users.map((s) => s.userId)).not.toContain('u2');
    for (const s of users) expect(Number(s.userId.slice(1)) % 2).toBe(0);
  });

  it('rejects unknown ids and bad n with errors that name the rule', () => {
    const { model } = fitted();
    expect(() => model.recommend('nobody')).toThrow(UnknownIdError);
    expect(() => model.recommend('nobody')).toThrow(/unknown user 'nobody'/);
    expect(() => model.similarItems('no-such-item')).toThrow(/unknown item 'no-such-item'/);
    expect(() => model.recommend('u0', { n: 0 })).toThrow(/n must be a positive integer/);
  });

  it('refuses to be used before fit', () => {
    expect(() => createModel(algorithm, params).recommend('u0')).toThrow(/not fitted/);
  });

  it('reports fit progress one step at a time, from 0 to its total, without changing the model', () => {
    const explicit = isExplicit(algorithm);
    const data = Interactions.from(checkerboard(SIZE, explicit), explicit ? 'last' : 'sum');
    const reports: Array<{ done: number; total: number }> = [];
    const model = createModel(algorithm, params).fit(data, { onProgress: (p) => reports.push({ ...p }) });
    // ALS: a half-sweep per step; SVD: an epoch; item-kNN: a chunk of items (one per item here);
    // EASE: the Gram, two per block of 128 items, the final step.
    const total = STEPS[algorithm as keyof typeof STEPS];
    expect(reports).toEqual(Array.from({ length: total + 1 }, (_, done) => ({ done, total })));
    expect(Buffer.from(model.save()).equals(Buffer.from(fitted().model.save()))).toBe(true);
  });
});

/** Steps of a fit with PARAMS on the checkerboard. */
const STEPS: Record<keyof typeof PARAMS, number> = { als: 20, 'implicit-als': 20, svd: 200, 'item-knn': SIZE, ease: 4 };

describe('popular', () => {
  it('reports its fit as one step', () => {
    const reports: Array<{ done: number; total: number }> = [];
    createModel('popular').fit(Interactions.from(checkerboard(SIZE, false), 'sum'), { onProgress: (p) => reports.push({ ...p }) });
    expect(reports).toEqual([{ done: 0, total: 1 }, { done: 1, total: 1 }]);
  });
});

describe('model input validation', () => {
  it('rejects NaN values, empty data and bad ids with the rule broken', () => {
    expect(() => Interactions.from([{ userId: 'a', itemId: 'b', value: Number.NaN }])).toThrow(/value must be a finite number/);
    expect(() => Interactions.from([])).toThrow(/no interactions/);
    expect(() => Interactions.from([{ userId: '', itemId: 'b', value: 1 }])).toThrow(/userId must be a non-empty string/);
  });

  it('rejects bad parameters naming the parameter', () => {
    expect(() => createModel('implicit-als', { factors: 0 })).toThrow(InvalidInputError);
    expect(() => createModel('implicit-als', { factors: 0 })).toThrow(/'factors'.*at least 1/);
    expect(() => createModel('svd', { learningRate: -1 })).toThrow(/'learningRate'/);
    expect(() => createModel('als', { bogus: 1 })).toThrow(/bogus|Unrecognized/);
    expect(() => createModel('nope')).toThrow(/unknown algorithm 'nope'/);
  });

  it('refuses a model whose training diverged to NaN', () => {
    const data = Interactions.from(checkerboard(SIZE, true));
    expect(() => createModel('svd', { learningRate: 1e6, iterations: 5 }).fit(data)).toThrow(/diverged/);
  });

  it('rejects truncated or foreign model files', () => {
    const bytes = fittedWith('als').model.save();
    expect(() => loadModel(bytes.subarray(0, bytes.length - 10))).toThrow(/truncated/);
    expect(() => loadModel(new TextEncoder().encode('hello world, not a model'))).toThrow(/LVRC/);
  });
});
