/**
 * EASE as the engine's algorithm, the way a shop runs it: trained on the training thread, a
 * post answered with a list that already reflects it (no solve: the history times B), exact
 * explanations, a restart serving the saved model, erasure, and the size rule as a clear error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, T0, shopFeedback } from '../fixtures/shop.ts';

const dir = mkdtempSync(join(tmpdir(), 'liverec-ease-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = { algorithm: 'ease', params: { lambda: 10 }, blend: false, retrainMinutes: 0, retrainEvery: 0 } as const;

async function open(path: string, config: object = CONFIG) {
  const store = SqliteStore.open(path);
  return { store, engine: await Engine.open(store, config) };
}

const ids = (recs: Array<{ itemId: string }>) => recs.map((r) => r.itemId);

describe('ease in the engine', () => {
  it('trains, answers a post with the updated list, explains exactly, survives a restart and erases', async () => {
    const path = join(dir, 'shop.db');
    let { store, engine } = await open(path);
    await engine.upsertItems(SHOP_ITEMS);
    await engine.importFeedback(shopFeedback());
    expect(await engine.trainNow()).toMatchObject({ version: 1, status: 'ready', algorithm: 'ease', params: { lambda: 10 } });

    // hu3 bought every horror item but h3: B links h3 to the other horror items.
    expect(ids((await engine.recommend('hu3', { n: 1 })).recommendations)).toEqual(['h3']);

    // A new user's first post is answered with that taste, from the history times B alone.
    const posted = await engine.addFeedback({ userId: 'nu', itemId: 'a0', type: 'purchase', value: null, timestamp: T0 + 1e7 }, 5);
    expect(posted.modelVersion).toBe(1);
    expect(ids(posted.recommendations).every((id) => id.startsWith('a') && id !== 'a0')).toBe(true);

    // Explanations are exact: a list's score is the sum of its item contributions.
    const explained = await engine.recommend('hu3', { n: 1, explain: true });
    const because = explained.recommendations[0].because as Array<{ itemId: string; weight: number }>;
    expect(because).toHaveLength(3);
    expect(because.every((b) => b.itemId.startsWith('h') && b.weight > 0)).toBe(true);
    const full = engine.servingModel!.explain('hu3', 'h3', 100);
    expect(full.contributions.reduce((sum, c) => sum + c.weight, 0)).toBeCloseTo(full.score, 5);

    const before = await engine.recommend('au5', { n: 5 });
    await engine.close();
    await store.close();

    ({ store, engine } = await open(path));
    expect((await engine.recommend('au5', { n: 5 })).recommendations).toEqual(before.recommendations);
    expect(ids((await engine.recommend('nu', { n: 5 })).recommendations)).toEqual(ids(posted.recommendations));

    await engine.deleteUser('hu3');
    expect(engine.servingModel!.hasUser('hu3')).toBe(false);
    await expect(engine.profile('hu3')).rejects.toThrow(/hu3/);
    await engine.close();
    await store.close();
  });

  it('refuses a catalog above maxItems with an error naming the alternatives, and keeps serving', async () => {
    const { store, engine } = await open(':memory:', { ...CONFIG, params: { lambda: 10, maxItems: 10 } });
    await engine.upsertItems(SHOP_ITEMS);
    await engine.importFeedback(shopFeedback());
    await expect(engine.trainNow()).rejects.toThrow(/ease cannot fit 20 items: above maxItems 10.*engine\.algorithm to 'implicit-als' or 'item-knn'/);
    // No model: popularity still answers.
    expect((await engine.recommend('hu3', { n: 3 })).recommendations).toHaveLength(3);
    await engine.close();
    await store.close();
  });
});
