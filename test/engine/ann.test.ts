import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANN_MIN_ITEMS, settleIndex, wantsIndex } from '../../src/engine/ann.ts';
import { Catalog } from '../../src/engine/catalog.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { ServingState } from '../../src/engine/serving-state.ts';
import { createModel } from '../../src/model/index.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { FeedbackInput, ItemInput } from '../../src/store/types.ts';
import { T0 } from '../fixtures/shop.ts';
import { tasteData } from '../fixtures/tastes.ts';

/**
 * The `ann` setting end to end: two engines over the same catalog and feedback, one answering
 * from the approximate index (`on`), one scoring the whole catalog (`off`), must agree closely,
 * and filters must hold exactly on the approximate one.
 */
const USERS = 300;
const ITEMS = 3000;
const CATEGORIES = 6;

const ITEM_INPUTS: ItemInput[] = Array.from({ length: ITEMS }, (_, i) => ({ itemId: `i${i}`, categories: [`c${i % CATEGORIES}`] }));

function feedback(): FeedbackInput[] {
  const data = tasteData({ users: USERS, items: ITEMS });
  return Array.from(data.values, (_, t) => ({
    userId: data.users.id(data.userIdx[t]), itemId: data.items.id(data.itemIdx[t]), type: 'purchase' as const, value: null, timestamp: T0 + t,
  }));
}

async function engineWith(ann: 'on' | 'off') {
  const store = SqliteStore.open(':memory:');
  const engine = await Engine.open(store, { ann, params: { factors: 16, iterations: 4, seed: 3 }, retrainMinutes: 0, retrainEvery: 0 });
  await engine.upsertItems(ITEM_INPUTS);
  await engine.importFeedback(feedback());
  await engine.trainNow();
  return { engine, store };
}

const ids = (list: Array<{ itemId: string }>) => list.map((r) => r.itemId);
const recall = (exact: Array<{ itemId: string }>, found: Array<{ itemId: string }>) => {
  const want = new Set(ids(exact));
  return found.filter((r) => want.has(r.itemId)).length / Math.max(want.size, 1);
};

describe('engine setting ann', () => {
  let on: Awaited<ReturnType<typeof engineWith>>;
  let off: Awaited<ReturnType<typeof engineWith>>;
  beforeAll(async () => {
    on = await engineWith('on');
    off = await engineWith('off');
  });
  afterAll(async () => {
    for (const { engine, store } of [on, off]) {
      await engine.close();
      await store.close();
    }
  });

  it('builds the index on the training thread only when asked', () => {
    expect(on.engine.model().metrics).toHaveProperty('indexSeconds');
    expect(off.engine.model().metrics).not.toHaveProperty('indexSeconds');
  });

  it('agrees with the exact engine on user lists, category lists, sessions and similar items', async () => {
    let users = 0;
    let filtered = 0;
    let sessions = 0;
    let similar = 0;
    const count = 40;
    for (let u = 0; u < count; u++) {
      const userId = `u${u * 7}`;
      const [a, b] = await Promise.all([on.engine.recommend(userId, { n: 10 }), off.engine.recommend(userId, { n: 10 })]);
      users += recall(b.recommendations, a.recommendations);
      const request = { n: 10, categories: [`c${u % CATEGORIES}`] };
      const [fa, fb] = await Promise.all([on.engine.recommend(userId, request), off.engine.recommend(userId, request)]);
      expect(fa.recommendations).toHaveLength(fb.recommendations.length);
      for (const r of fa.recommendations) expect(Number(r.itemId.slice(1)) % CATEGORIES).toBe(u % CATEGORIES);
      filtered += recall(fb.recommendations, fa.recommendations);
      const visited = [`i${u}`, `i${u + 10}`];
      sessions += recall(off.engine.recommendSession(visited, { n: 10 }).recommendations, on.engine.recommendSession(visited, { n: 10 }).recommendations);
      similar += recall(off.engine.similarItems(`i${u}`, 10), on.engine.similarItems(`i${u}`, 10));
    }
    expect(users / count).toBeGreaterThanOrEqual(0.95);
    expect(filtered / count).toBeGreaterThanOrEqual(0.9);
    expect(sessions / count).toBeGreaterThanOrEqual(0.95);
    expect(similar / count).toBeGreaterThanOrEqual(0.9);
  });

  it('indexes on the training thread a model saved without one, then serves it from the index', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'liverec-ann-')), 'shop.db');
    const config = { params: { factors: 8, iterations: 2, seed: 3 }, retrainMinutes: 0, retrainEvery: 0 };
    const store = SqliteStore.open(path);
    const first = await Engine.open(store, { ...config, ann: 'off' });
    await first.upsertItems(ITEM_INPUTS.slice(0, 500));
    await first.importFeedback(feedback().filter((e) => Number(e.itemId.slice(1)) < 500));
    await first.trainNow();
    await first.close();
    const engine = await Engine.open(store, { ...config, ann: 'on' });
    const serving = () => (engine as unknown as { state: ServingState }).state.model!;
    try {
      const before = serving();
      expect(before.latent!.indexed).toBe(false);
      const exact = await engine.recommend('u2', { n: 10 });
      for (let t = 0; t < 200 && !serving().latent!.indexed; t++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(serving().latent!.indexed).toBe(true);
      expect(serving()).not.toBe(before);
      expect(recall(exact.recommendations, (await engine.recommend('u2', { n: 10 })).recommendations)).toBeGreaterThanOrEqual(0.9);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it('never returns a retired item', async () => {
    const top = (await on.engine.recommend('u1', { n: 1 })).recommendations[0].itemId;
    await on.engine.deleteItem(top);
    expect(ids((await on.engine.recommend('u1', { n: 10 })).recommendations)).not.toContain(top);
    expect(ids(on.engine.similarItems('i0', 50))).not.toContain(top);
  });
});

describe('which models carry an index', () => {
  it('auto from ANN_MIN_ITEMS items, on at any size, off never', () => {
    expect([wantsIndex('auto', ANN_MIN_ITEMS - 1), wantsIndex('auto', ANN_MIN_ITEMS), wantsIndex('on', 10), wantsIndex('off', 10 ** 7)]).toEqual([false, true, true, false]);
  });

  it('a swap drops an index the setting does not want and brings changed items up to date', async () => {
    const model = createModel('implicit-als', { factors: 8, iterations: 2 }).fit(tasteData({ users: 50, items: 300 }));
    await model.latent!.buildIndex();
    const top = model.recommend('u1', { n: 1 })[0].itemId;
    settleIndex(model, new Catalog([{ itemId: top, title: null, categories: [], metadata: {}, available: false, createdAt: 0, updatedAt: 0 }]), 'on', [top]);
    expect(model.recommend('u1', { n: 5 }).map((r) => r.itemId)).not.toContain(top);
    settleIndex(model, new Catalog(), 'off', []);
    expect(model.latent!.indexed).toBe(false);
    expect(model.recommend('u1', { n: 1 })[0].itemId).toBe(top);
  });
});
