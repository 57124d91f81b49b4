/**
 * The cached lists against an engine that ranks every read (listCacheItems 0), both given the
 * same writes: every answer must be the same, and every change that moves a cached list must
 * change the answer the cache gives — checked after a read that the cache answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineConfigInput } from '../../src/engine/config.ts';
import type { RecommendRequest, RecommendResult } from '../../src/engine/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { FeedbackInput } from '../../src/store/types.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const DAY = 86_400_000;
const now = T0 + 10 * DAY;
const open: Array<{ engine: Engine; store: SqliteStore }> = [];

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.close();
    await store.close();
  }
});

async function shop(config: EngineConfigInput): Promise<Engine> {
  const store = SqliteStore.open(':memory:');
  // The shop's users have 9 items each, all short histories: the blend is off so that category-filtered reads can come from the
  // cache too (a blended list is cached for unfiltered reads only; see the blend's own case below).
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, blend: false, ...config }, () => now);
  open.push({ engine, store });
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  await engine.trainNow();
  return engine;
}

/** One engine with the cache, one without, trained alike (a seeded fit) and then given the same writes. */
async function twins(config: EngineConfigInput = {}) {
  const cached = await shop(config);
  const ranked = await shop({ ...config, listCacheItems: 0 });
  const counts = async () => (await cached.metrics()).listCache;
  return {
    cached,
    /** Runs a write on both engines, one after the other. */
    async both<T>(write: (engine: Engine) => Promise<T>): Promise<T> {
      const result = await write(cached);
      await write(ranked);
      return result;
    },
    /** The cached engine's answer, checked against the ranking one's. */
    async read(userId: string, request: RecommendRequest): Promise<RecommendResult> {
      const answer = await cached.recommend(userId, request);
      expect(answer, `${userId} ${JSON.stringify(request)}`).toEqual(await ranked.recommend(userId, request));
      return answer;
    },
    /** A read the cache answers: the answer, after checking it was a hit. */
    async hit(userId: string, request: RecommendRequest): Promise<RecommendResult> {
      const before = (await counts()).hits;
      const answer = await this.read(userId, request);
      expect((await counts()).hits, `${userId} ${JSON.stringify(request)} was not answered from the cache`).toBe(before + 1);
      return answer;
    },
    counts,
  };
}

const ids = (result: RecommendResult) => result.recommendations.map((r) => r.itemId);
const purchase = (userId: string, itemId: string, at = now): FeedbackInput => ({ userId, itemId, type: 'purchase', value: null, timestamp: at });

describe('cached lists', () => {
  it("keep a short history's blended list too, answering as a fresh blend; a category filter blends afresh", async () => {
    const t = await twins({ blend: { historyItems: 20 } });
    await t.read('hu1', { n: 3 });
    await t.hit('hu1', { n: 3 });
    await t.hit('hu1', { n: 2, exclude: ['h1'] });
    const explained = await t.hit('hu1', { n: 3, explain: true });
    // The category reasons of the blend come back from the cached list.
    expect(explained.recommendations[0].because).toContainEqual({ category: 'horror', weight: expect.any(Number) });
    const hits = (await t.counts()).hits;
    await t.read('hu1', { n: 4, categories: ['animation'] });
    await t.read('hu1', { n: 30, diversity: 0.5 });
    expect((await t.counts()).hits).toBe(hits);
    // A post drops the blended list like any other: its answer blends afresh, and that list is kept.
    const misses = (await t.counts()).misses;
    await t.both((e) => e.addFeedback(purchase('hu1', 'a0'), 3));
    await t.hit('hu1', { n: 3 });
    expect((await t.counts()).misses).toBe(misses + 1);
  });

  it('answer a mix of request options as ranking every read does, deriving filters and exclusions from the cached pool', async () => {
    const t = await twins();
    const requests: RecommendRequest[] = [
      { n: 3 },
      { n: 3 },
      { n: 2, exclude: ['h1'] },
      { n: 5, exclude: ['h1', 'a0', 'nope'] },
      { n: 4, categories: ['animation'] },
      { n: 2, categories: ['horror'] },
      { n: 3, excludeCategories: ['horror'] },
      { n: 4, diversity: 0.7 },
      { n: 3, explain: true },
      { n: 3, reshowAfterDays: 1 },
      { n: 19 },
      { n: 6, categories: ['horror'], exclude: ['h1'], diversity: 0.5, explain: true },
      { n: 1 },
    ];
    for (const userId of ['hu1', 'au2', 'hu7']) for (const request of requests) await t.read(userId, request);
    // Asked again, now that each user's longest list is cached: every read but the re-show one is a hit.
    const { hits } = await t.counts();
    for (const request of requests) await t.read('hu1', request);
    expect((await t.counts()).hits - hits).toBe(requests.length - 1);
  });

  it('hand out copies: changing an answer in place leaves the next one alone', async () => {
    const t = await twins();
    const first = await t.read('hu1', { n: 3 });
    first.recommendations[0].score = -1;
    await t.hit('hu1', { n: 3 });
  });

  it("never come up short: a filter that leaves too few of a cached list ranks with the filter", async () => {
    const t = await twins();
    await t.read('hu1', { n: 2 });
    // hu1's two best are horror; animation items lie deeper than the cached list reaches.
    const animation = await t.read('hu1', { n: 5, categories: ['animation'] });
    expect(ids(animation)).toHaveLength(5);
    expect(ids(animation).every((id) => id.startsWith('a'))).toBe(true);
    // A list holding every unseen item serves any filter: hu1 has seen 9 of the 20.
    expect(ids(await t.read('hu1', { n: 20 }))).toHaveLength(11);
    expect(ids(await t.hit('hu1', { n: 20, categories: ['animation'] }))).toHaveLength(10);
  });

  it("are dropped when the user posts", async () => {
    const t = await twins();
    await t.read('hu1', { n: 3 });
    const before = await t.hit('hu1', { n: 3 });
    // hu1 skipped h1 in training: it leads the list until bought.
    expect(ids(before)[0]).toBe('h1');
    await t.both((e) => e.addFeedback(purchase('hu1', 'h1'), 3));
    const after = await t.read('hu1', { n: 3 });
    expect(ids(after)).not.toContain('h1');
  });

  it("are kept while other users post about trained items, and dropped when the model swaps", async () => {
    const t = await twins();
    const before = await t.read('hu1', { n: 5 });
    for (let u = 0; u < 6; u++) await t.both((e) => e.addFeedback(purchase(`au${u}`, `h${u}`), 1));
    expect(await t.hit('hu1', { n: 5 })).toEqual(before);
    await t.both((e) => e.trainNow());
    const after = await t.read('hu1', { n: 5 });
    expect(after.modelVersion).toBe(before.modelVersion! + 1);
    expect(after.recommendations).not.toEqual(before.recommendations);
  });

  it('are dropped when an item is added, retired or moved to another category', async () => {
    const t = await twins();
    await t.read('hu0', { n: 20 });
    await t.hit('hu0', { n: 20 });
    // A new horror item starts at the horror items' mean vector: near the top for a horror fan.
    await t.both((e) => e.upsertItems([{ itemId: 'h10', categories: ['horror'] }]));
    expect(ids(await t.read('hu0', { n: 20 }))).toContain('h10');
    await t.hit('hu0', { n: 3 });
    await t.both((e) => e.deleteItem('h0'));
    expect(ids(await t.read('hu0', { n: 20 }))).not.toContain('h0');
    const horror = await t.hit('hu0', { n: 3, categories: ['horror'] });
    expect(ids(horror)).not.toContain('a9');
    await t.both((e) => e.upsertItems([{ itemId: 'a9', categories: ['horror'] }]));
    expect(ids(await t.read('hu0', { n: 3, categories: ['horror'] }))).toContain('a9');
  });

  it("are dropped when other users' feedback moves a new item's vector", async () => {
    const t = await twins();
    await t.both((e) => e.upsertItems([{ itemId: 'h10', categories: ['horror'] }]));
    await t.read('hu0', { n: 20 });
    const before = await t.hit('hu0', { n: 20 });
    // Animation fans buying it pull it away from the horror mean (from the third buyer on).
    for (let u = 0; u < 3; u++) await t.both((e) => e.addFeedback(purchase(`au${u}`, 'h10'), 1));
    const after = await t.read('hu0', { n: 20 });
    expect(after.recommendations).not.toEqual(before.recommendations);
  });

  it("are dropped when a user is erased: theirs, and the others' (the items they touched are re-solved)", async () => {
    const t = await twins();
    await t.read('au5', { n: 3 });
    await t.read('hu2', { n: 19 });
    const before = await t.hit('hu2', { n: 19 });
    await t.both((e) => e.deleteUser('au5'));
    const after = await t.read('hu2', { n: 19 });
    expect(after.recommendations).not.toEqual(before.recommendations);
    // What the erased id gets now is the cold-start list.
    expect((await t.read('au5', { n: 3 })).recommendations).toEqual(t.cached.popular({ n: 3 }));
  });

  it('are dropped when a user is quarantined, and when the quarantine is lifted', async () => {
    const t = await twins({ floodEventsPerSecond: 2, floodWindowSeconds: 2 });
    await t.read('hu3', { n: 3 });
    const personal = await t.hit('hu3', { n: 3 });
    const flood = Array.from({ length: 8 }, (_, i) => ({ ...purchase('hu3', `a${i}`), type: 'view' as const }));
    await t.both((e) => Promise.all(flood.map((event) => e.addFeedback(event, 3))));
    expect((await t.cached.metrics()).quarantinedUsers).toBe(1);
    // Quarantined: popular items the user has not seen, with their popularity scores.
    const quarantined = await t.read('hu3', { n: 3 });
    const popular = new Map(t.cached.popular({ n: 30 }).map((r) => [r.itemId, r.score]));
    for (const r of quarantined.recommendations) expect(r.score).toBe(popular.get(r.itemId));
    await t.both((e) => e.unflagUser('hu3'));
    const lifted = await t.read('hu3', { n: 3 });
    expect(lifted.recommendations).not.toEqual(quarantined.recommendations);
    expect(lifted.recommendations).not.toEqual(personal.recommendations);
  });

  it('are dropped when an import rewrites the user\'s history', async () => {
    const t = await twins();
    await t.read('hu4', { n: 4 });
    const before = await t.hit('hu4', { n: 4 });
    await t.both((e) => e.importFeedback(['a0', 'a1', 'a2', 'a3'].map((itemId) => purchase('hu4', itemId, T0 + DAY))));
    const after = await t.read('hu4', { n: 4 });
    expect(after.recommendations).not.toEqual(before.recommendations);
  });

  it('hold at most listCacheItems items, least recently read users dropped first', async () => {
    const t = await twins({ listCacheItems: 10 });
    await t.read('hu1', { n: 5 });
    await t.read('hu2', { n: 5 });
    // Read again, hu1 is now the more recent of the two: hu3's list pushes hu2's out.
    await t.hit('hu1', { n: 5 });
    await t.read('hu3', { n: 5 });
    expect((await t.counts()).items).toBe(10);
    await t.hit('hu1', { n: 5 });
    const { misses } = await t.counts();
    await t.read('hu2', { n: 5 });
    expect((await t.counts()).misses).toBe(misses + 1);
    // A list longer than the whole budget is ranked for every read, never kept.
    await t.read('hu5', { n: 11 });
    await t.read('hu5', { n: 11 });
    expect((await t.counts()).misses).toBe(misses + 3);
  });
});
