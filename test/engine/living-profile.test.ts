import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const DAY = 86_400_000;
let now = T0 + 10 * DAY;
const open: Array<{ engine: Engine; store: SqliteStore }> = [];

async function trainedShop(config = {}) {
  const store = SqliteStore.open(':memory:');
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, segments: 2, ...config }, () => now);
  open.push({ engine, store });
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  await engine.trainNow();
  return { engine, store };
}

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.close();
    await store.close();
  }
  now = T0 + 10 * DAY;
});

const ids = (recs: Array<{ itemId: string }>) => recs.map((r) => r.itemId);
const share = (items: string[], prefix: string) => items.filter((id) => id.startsWith(prefix)).length / items.length;

describe('the living profile', () => {
  it('moves a horror fan toward animation in both profile and recommendations', async () => {
    const { engine } = await trainedShop();
    const before = await engine.profile('hu1');
    expect(before.topCategories).toEqual([{ category: 'horror', weight: 1 }]);
    expect(before.segment).not.toBeNull();
    // The one horror film hu1 has not bought comes first.
    expect(ids((await engine.recommend('hu1', { n: 1 })).recommendations)).toEqual(['h1']);
    // A year later (horror purchases now weigh 2^(-400/180) ≈ 0.21) hu1 buys animation.
    now = T0 + 400 * DAY;
    for (let i = 0; i < 6; i++) {
      now += 1000;
      await engine.addFeedback({ userId: 'hu1', itemId: `a${i}`, type: 'purchase', value: null, timestamp: now }, 4);
    }
    const after = await engine.profile('hu1');
    const animation = after.topCategories.find((c) => c.category === 'animation')!;
    expect(animation.weight).toBeGreaterThan(0.3);
    expect(after.drift!.distance).toBeGreaterThan(0.1);
    expect(after.drift!.grew.map((c) => c.category)).toEqual(['animation']);
    expect(after.drift!.shrank.map((c) => c.category)).toEqual(['horror']);
    expect(animation.weight).toBeGreaterThan(after.topCategories.find((c) => c.category === 'horror')!.weight);
    expect(after.activity.last7Days).toEqual({ purchase: 6 });
    expect(after.segment).not.toBeNull();
    expect(ids((await engine.recommend('hu1', { n: 1 })).recommendations)[0]).toMatch(/^a/);
  });

  it('lists segments labelled by their top categories', async () => {
    const { engine } = await trainedShop();
    const segments = engine.segments();
    expect(segments.map((s) => s.label).sort()).toEqual(['animation', 'horror']);
    expect(segments.reduce((sum, s) => sum + s.size, 0)).toBe(24);
  });

  it('explains each recommendation with items the user actually interacted with', async () => {
    const { engine, store } = await trainedShop();
    const result = await engine.recommend('au2', { n: 3, explain: true });
    const history = new Set((await store.userFeedback('au2')).map((e) => e.itemId));
    for (const rec of result.recommendations) {
      expect(rec.because!.length).toBeGreaterThan(0);
      for (const b of rec.because!) expect('itemId' in b ? history.has(b.itemId) : b.category === 'animation').toBe(true);
    }
  });

  it('lowers category concentration with the diversity knob', async () => {
    const { engine } = await trainedShop();
    await engine.addFeedback({ userId: 'newbie', itemId: 'h0', type: 'purchase', value: null, timestamp: now }, 1);
    const focused = ids((await engine.recommend('newbie', { n: 6 })).recommendations);
    const diverse = ids((await engine.recommend('newbie', { n: 6, diversity: 0.9 })).recommendations);
    expect(share(focused, 'h')).toBe(1);
    const concentration = (list: string[]) => Math.max(share(list, 'h'), share(list, 'a'));
    expect(concentration(diverse)).toBeLessThan(concentration(focused));
    expect(diverse).toHaveLength(6);
  });

  it('excludes categories on request and can re-show items seen long ago', async () => {
    const { engine } = await trainedShop();
    for (const id of ids((await engine.recommend('hu0', { n: 10, excludeCategories: ['horror'] })).recommendations)) expect(id.startsWith('a')).toBe(true);
    // hu0's purchases are from T0 (10 days before now): with a 5-day window they may come back.
    const reshown = ids((await engine.recommend('hu0', { n: 20, reshowAfterDays: 5 })).recommendations);
    expect(reshown.filter((id) => id.startsWith('h')).length).toBe(10);
    const strict = ids((await engine.recommend('hu0', { n: 20, reshowAfterDays: 30 })).recommendations);
    expect(strict).not.toContain('h1');
  });

  it('stores a duplicate burst once', async () => {
    const { engine, store } = await trainedShop();
    const event = { userId: 'hu1', itemId: 'a1', type: 'click' as const, value: null, timestamp: T0 + 5 * DAY };
    const results = await Promise.all(Array.from({ length: 5 }, () => engine.addFeedback(event, 3)));
    expect(results.map((r) => [r.accepted, r.duplicates])).toEqual([[1, 0], [0, 1], [0, 1], [0, 1], [0, 1]]);
    expect((await store.userFeedback('hu1')).filter((e) => e.itemId === 'a1')).toHaveLength(1);
  });

  it('quarantines a flood: rows kept, not learned from, flag visible and reversible', async () => {
    const { engine, store } = await trainedShop({ floodEventsPerSecond: 2, floodWindowSeconds: 5 });
    const before = ids((await engine.recommend('hu2', { n: 3 })).recommendations);
    let last;
    for (let i = 0; i < 12; i++) last = await engine.addFeedback({ userId: 'hu2', itemId: `a${i % 10}`, type: 'view', value: null, timestamp: now + i }, 3);
    expect(last!.quarantined).toBe(true);
    expect((await store.userFeedback('hu2')).length).toBe(9 + 12);
    const profile = await engine.profile('hu2');
    expect(profile.flags).toHaveLength(1);
    expect(profile.flags[0].reason).toMatch(/more than 2 events\/s/);
    // Quarantined: served as a stranger (popular), not from the flood.
    expect(ids((await engine.recommend('hu2', { n: 3 })).recommendations)).not.toEqual(before);
    expect(await engine.unflagUser('hu2')).toEqual({ userId: 'hu2', flags: [] });
    expect((await engine.profile('hu2')).flags).toEqual([]);
    // A retrain leaves flagged users out of training.
    await engine.addFeedback({ userId: 'bot', itemId: 'h1', type: 'view', value: null, timestamp: now }, 1);
    await store.flagUser('bot', 'manual', now);
    await engine.trainNow();
    // 24 shop users (hu2 unflagged again), not the flagged bot.
    expect(engine.model().metrics).toMatchObject({ users: 24 });
  });

  it('makes a new item with categories recommendable before any retrain', async () => {
    const { engine } = await trainedShop();
    await engine.upsertItems([{ itemId: 'a-new', title: 'New animation', categories: ['animation'] }]);
    const recs = ids((await engine.recommend('au0', { n: 3 })).recommendations);
    expect(recs).toContain('a-new');
    expect(ids((await engine.recommend('hu0', { n: 3 })).recommendations)).not.toContain('a-new');
    // Feedback from enough users refines its vector (foldInItem) toward the people who bought it.
    for (const userId of ['au3', 'au4', 'au5']) await engine.addFeedback({ userId, itemId: 'a-new', type: 'purchase', value: null, timestamp: now }, 3);
    expect(ids(engine.similarItems('a-new', 3)).every((id) => id.startsWith('a'))).toBe(true);
    expect(ids((await engine.recommend('au0', { n: 2 })).recommendations)).toContain('a-new');
  });
});
