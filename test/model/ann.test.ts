import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadModel } from '../../src/model/index.ts';
import type { Recommender, Scored } from '../../src/model/types.ts';
import { tasteData } from '../fixtures/tastes.ts';

/**
 * The approximate index against the full scan on the same model: a few thousand items, so the
 * exact answer is cheap to compute here and the index still has dozens of lists.
 */
const USERS = 400;
const ITEMS = 4000;

const ids = (list: Scored[]) => list.map((s) => s.itemId);
const recall = (exact: Scored[], found: Scored[]) => {
  const want = new Set(ids(exact));
  return found.filter((s) => want.has(s.itemId)).length / Math.max(want.size, 1);
};

async function indexed(algorithm: 'implicit-als' | 'als', params: Record<string, unknown>): Promise<Recommender> {
  const model = createModel(algorithm, { factors: 16, iterations: 4, ...params }).fit(tasteData({ users: USERS, items: ITEMS, explicit: algorithm === 'als' }));
  await model.latent!.buildIndex();
  return model;
}

describe('approximate top-N index', () => {
  let model: Recommender;
  beforeAll(async () => {
    model = await indexed('implicit-als', {});
  });

  it('returns the exact top-10 for most users, with exact scores', () => {
    let same = 0;
    let total = 0;
    for (let u = 0; u < USERS; u++) {
      const exact = model.recommend(`u${u}`, { exact: true });
      const found = model.recommend(`u${u}`);
      expect(found).toHaveLength(10);
      if (ids(found).join() === ids(exact).join()) same++;
      total += recall(exact, found);
      for (const s of found) expect(s.score).toBeCloseTo(model.predict(`u${u}`, s.itemId), 4);
    }
    expect(same / USERS).toBeGreaterThanOrEqual(0.9);
    expect(total / USERS).toBeGreaterThanOrEqual(0.97);
  });

  it('with a filter and exclusions: never short, never an item the filter or exclusions reject', () => {
    let total = 0;
    for (let u = 0; u < USERS; u += 4) {
      const userId = `u${u}`;
      const exclude = ids(model.recommend(userId, { n: 5, exact: true }));
      const filter = (itemId: string) => Number(itemId.slice(1)) % 7 === u % 7;
      const exact = model.recommend(userId, { exclude, filter, exact: true });
      const found = model.recommend(userId, { exclude, filter });
      const seen = new Set(model.userHistory(userId).map((x) => x.itemId));
      expect(found).toHaveLength(exact.length);
      for (const s of found) {
        expect(filter(s.itemId)).toBe(true);
        expect(exclude).not.toContain(s.itemId);
        expect(seen.has(s.itemId)).toBe(false);
      }
      total += recall(exact, found);
    }
    expect(total / (USERS / 4)).toBeGreaterThanOrEqual(0.9);
  });

  it('falls back to the full scan when too few candidates survive the filter', () => {
    // Items far down every list: the index's deepest search cannot reach all of them.
    const rare = new Set(['i3999', 'i3998', 'i2501', 'i1777', 'i3333', 'i2999', 'i3901', 'i3802', 'i3703', 'i3604', 'i3505', 'i3406']);
    for (const n of [3, 10, 20]) {
      const exact = model.recommend('u1', { n, filter: (id) => rare.has(id), exact: true });
      expect(model.recommend('u1', { n, filter: (id) => rare.has(id) })).toEqual(exact);
      const eligible = [...rare].filter((id) => model.hasItem(id) && !model.userHistory('u1').some((x) => x.itemId === id));
      expect(exact.length).toBe(Math.min(n, eligible.length));
    }
  });

  it('ranks without an index exactly as the full scan does', () => {
    const plain = createModel('implicit-als', { factors: 16, iterations: 4 }).fit(tasteData({ users: USERS, items: ITEMS }));
    expect(plain.latent!.indexed).toBe(false);
    for (let u = 0; u < 20; u++) expect(plain.recommend(`u${u}`)).toEqual(plain.recommend(`u${u}`, { exact: true }));
  });

  it('answers anonymous sessions and similar items from the index, close to the full scan', () => {
    let session = 0;
    let similar = 0;
    const plain = loadModel(model.save());
    plain.latent!.dropIndex();
    for (let u = 0; u < 50; u++) {
      const history = model.userHistory(`u${u}`);
      session += recall(model.recommendFor(history, { exact: true }), model.recommendFor(history));
      similar += recall(plain.similarItems(`i${u}`), model.similarItems(`i${u}`));
    }
    expect(session / 50).toBeGreaterThanOrEqual(0.95);
    expect(similar / 50).toBeGreaterThanOrEqual(0.9);
  });

  it('is saved with the model and answers the same after a load', () => {
    const loaded = loadModel(model.save());
    expect(loaded.latent!.indexed).toBe(true);
    for (let u = 0; u < 20; u++) expect(loaded.recommend(`u${u}`)).toEqual(model.recommend(`u${u}`));
  });

  it('finds an item added after the build and an indexed item whose vector changed', () => {
    const copy = loadModel(model.save());
    const user = copy.latent!.userVector('u3');
    const boosted = user.map((x) => x * 50);
    copy.latent!.setItemVector('fresh', boosted);
    expect(copy.recommend('u3', { n: 1 })[0].itemId).toBe('fresh');
    // An indexed item far from this user's lists moves to where the user looks.
    const far = copy.recommend('u3', { n: ITEMS, exact: true }).at(-1)!.itemId;
    copy.latent!.setItemVector(far, boosted.map((x) => x * 2));
    expect(copy.recommend('u3', { n: 1 })[0].itemId).toBe(far);
    expect(copy.recommend('u3', { n: 2 }).map((s) => s.itemId)).toEqual([far, 'fresh']);
  });

  it('leaves a retired item out until it returns', () => {
    const copy = loadModel(model.save());
    const top = copy.recommend('u5', { n: 1 })[0].itemId;
    copy.latent!.setItemRetired(top, true);
    expect(ids(copy.recommend('u5', { n: 20 }))).not.toContain(top);
    copy.latent!.setItemRetired(top, false);
    expect(copy.recommend('u5', { n: 1 })[0].itemId).toBe(top);
  });

  it('keeps rating models on the rating scale and close to the full scan (item biases)', async () => {
    const rating = await indexed('als', { reg: 0.1 });
    let total = 0;
    for (let u = 0; u < 100; u++) total += recall(rating.recommend(`u${u}`, { exact: true }), rating.recommend(`u${u}`));
    expect(total / 100).toBeGreaterThanOrEqual(0.95);
  });
});
