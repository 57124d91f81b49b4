import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { NotFoundError, StoreUnavailableError } from '../../src/store/errors.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const open: Array<{ engine: Engine; store: SqliteStore }> = [];

async function shop(path = ':memory:', config = {}) {
  const store = SqliteStore.open(path);
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, ...config });
  open.push({ engine, store });
  return { engine, store };
}

async function trainedShop(path = ':memory:', config = {}) {
  const { engine, store } = await shop(path, config);
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
});

const ids = (recs: Array<{ itemId: string }>) => recs.map((r) => r.itemId);

describe('Engine', () => {
  it('serves popularity before any model, then the trained model', async () => {
    const { engine } = await shop();
    await engine.upsertItems(SHOP_ITEMS);
    await engine.importFeedback(shopFeedback());
    const cold = await engine.recommend('hu0', { n: 3 });
    expect(cold.modelVersion).toBeNull();
    expect(engine.model().status).toBe('empty');
    // hu0 bought h1..h9: cold start must not repeat them.
    for (const id of ids(cold.recommendations)) expect(id.startsWith('h') && id !== 'h0').toBe(false);
    const info = await engine.trainNow();
    expect(info).toMatchObject({ version: 1, status: 'ready', algorithm: 'implicit-als', metrics: { users: 24, items: 20, interactions: 216 } });
    const warm = await engine.recommend('hu0', { n: 1 });
    expect(warm).toEqual({ userId: 'hu0', modelVersion: 1, recommendations: [{ itemId: 'h0', score: expect.any(Number) }] });
  });

  it('answers a feedback with recommendations that already reflect it', async () => {
    const { engine, store } = await trainedShop();
    const before = await engine.recommend('hu3', { n: 5 });
    expect(ids(before.recommendations)[0]).toBe('h3');
    const result = await engine.addFeedback({ userId: 'hu3', itemId: 'h3', type: 'purchase', value: null, timestamp: T0 + 1e6 }, 5);
    expect(result.accepted).toBe(1);
    expect(result.duplicates).toBe(0);
    expect(result.modelVersion).toBe(1);
    expect(ids(result.recommendations)).not.toContain('h3');
    expect(result.recommendations).toHaveLength(5);
    expect((await store.userFeedback('hu3')).some((e) => e.itemId === 'h3')).toBe(true);
    // The exact same event again is a duplicate: stored once.
    const again = await engine.addFeedback({ userId: 'hu3', itemId: 'h3', type: 'purchase', value: null, timestamp: T0 + 1e6 }, 5);
    expect([again.accepted, again.duplicates]).toEqual([0, 1]);
  });

  it('personalises a brand-new user from their first feedback', async () => {
    const { engine } = await trainedShop();
    const result = await engine.addFeedback({ userId: 'newbie', itemId: 'a2', type: 'purchase', value: null, timestamp: T0 + 5e6 }, 5);
    // One animation purchase: the rest of the list is animation.
    for (const id of ids(result.recommendations)) expect(id.startsWith('a')).toBe(true);
  });

  it('moves a user toward a new taste as feedback arrives', async () => {
    const { engine } = await trainedShop();
    for (let i = 0; i < 6; i++) await engine.addFeedback({ userId: 'hu1', itemId: `a${i}`, type: 'purchase', value: null, timestamp: T0 + 2e6 + i }, 5);
    const recs = ids((await engine.recommend('hu1', { n: 4 })).recommendations);
    expect(recs.filter((id) => id.startsWith('a')).length).toBeGreaterThanOrEqual(3);
  });

  it('keeps profiles and recommendations across a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'liverec-')), 'shop.db');
    const first = await trainedShop(path);
    await first.engine.addFeedback({ userId: 'au5', itemId: 'h1', type: 'purchase', value: null, timestamp: T0 + 9e6 }, 5);
    await first.engine.addFeedback({ userId: 'au5', itemId: 'h2', type: 'purchase', value: null, timestamp: T0 + 9e6 + 1 }, 5);
    const before = await first.engine.recommend('au5', { n: 6 });
    await first.engine.close();
    await first.store.close();
    open.length = 0;
    const second = await shop(path);
    const after = await second.engine.recommend('au5', { n: 6 });
    expect(after).toEqual(before);
    expect(second.engine.model().version).toBe(1);
    expect(await second.store.countFeedback()).toBe(216 + 2);
  });

  it('commits concurrent posts together (one transaction, one fsync) and answers each with its own list', async () => {
    const { engine, store } = await trainedShop();
    const writes: number[] = [];
    const addFeedback = store.addFeedback.bind(store);
    store.addFeedback = (events, options) => (writes.push(events.length), addFeedback(events, options));
    const post = (userId: string, itemId: string) => engine.addFeedback({ userId, itemId, type: 'purchase', value: null, timestamp: T0 + 8e6 }, 5);
    const results = await Promise.all([post('hu1', 'a1'), post('au1', 'h1'), post('hu1', 'a1'), post('newbie', 'a2')]);
    expect(writes).toEqual([4]);
    expect(results.map((r) => [r.userId, r.accepted, r.duplicates])).toEqual([['hu1', 1, 0], ['au1', 1, 0], ['hu1', 0, 1], ['newbie', 1, 0]]);
    // Each answer is its own user's fresh list: what they just bought is gone from it.
    expect(ids(results[0].recommendations)).not.toContain('a1');
    expect(ids(results[1].recommendations)).not.toContain('h1');
    expect(ids(results[3].recommendations)).not.toContain('a2');
    expect(await store.countFeedback()).toBe(216 + 3);
    // A later post is a new commit.
    await post('au2', 'h2');
    expect(writes).toEqual([4, 1]);
  });

  it('fails every post of a group whose commit fails, storing none of them', async () => {
    const { engine, store } = await trainedShop();
    const addFeedback = store.addFeedback.bind(store);
    store.addFeedback = async () => {
      throw new StoreUnavailableError('full', 'the database is full');
    };
    const post = (userId: string) => engine.addFeedback({ userId, itemId: 'a3', type: 'click', value: null, timestamp: T0 + 8e6 }, 5);
    const settled = await Promise.allSettled([post('hu1'), post('au1')]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    store.addFeedback = addFeedback;
    expect(await store.countFeedback()).toBe(216);
    expect((await post('hu1')).accepted).toBe(1);
  });

  it('commits posts still queued when it closes', async () => {
    const { engine, store } = await trainedShop();
    const pending = engine.addFeedback({ userId: 'hu1', itemId: 'a4', type: 'view', value: null, timestamp: T0 + 8e6 }, 3);
    await engine.close();
    expect((await pending).accepted).toBe(1);
    expect(await store.countFeedback()).toBe(216 + 1);
  });

  it('loses no feedback posted while a retrain runs', async () => {
    const { engine, store } = await trainedShop();
    const job = await engine.train();
    expect(engine.model()).toMatchObject({ status: 'training', training: { jobId: job.jobId } });
    const posts = Promise.all([
      engine.addFeedback({ userId: 'hu2', itemId: 'a7', type: 'purchase', value: null, timestamp: T0 + 7e6 }, 5),
      engine.addFeedback({ userId: 'late', itemId: 'a1', type: 'purchase', value: null, timestamp: T0 + 7e6 }, 5),
    ]);
    // Joins the running job (called before anything could end it): no second retrain.
    const trained = engine.trainNow();
    expect((await posts).map((r) => r.accepted)).toEqual([1, 1]);
    await trained;
    expect(engine.model()).toMatchObject({ version: 2, status: 'ready' });
    expect(await store.countFeedback()).toBe(218);
    // Events after the training snapshot are folded in after the swap.
    expect(ids((await engine.recommend('hu2', { n: 20 })).recommendations)).not.toContain('a7');
    expect(ids((await engine.recommend('late', { n: 20 })).recommendations)).not.toContain('a1');
  });

  it('never recommends unavailable items and filters by category', async () => {
    const { engine } = await trainedShop();
    await engine.deleteItem('h5');
    expect((await engine.getItem('h5')).available).toBe(false);
    expect(ids((await engine.recommend('hu5', { n: 20 })).recommendations)).not.toContain('h5');
    expect(ids(engine.popular({ n: 20 }))).not.toContain('h5');
    const animated = await engine.recommend('hu0', { n: 5, categories: ['animation'] });
    for (const id of ids(animated.recommendations)) expect(id.startsWith('a')).toBe(true);
    await expect(engine.deleteItem('nope')).rejects.toThrow(NotFoundError);
  });

  it('gives unknown users cold-start items and anonymous sessions a transient fold-in', async () => {
    const { engine } = await trainedShop();
    const stranger = await engine.recommend('stranger', { n: 3 });
    expect(stranger.recommendations).toHaveLength(3);
    const session = engine.recommendSession(['a0', 'a1'], { n: 4 });
    expect(ids(session.recommendations)).not.toContain('a0');
    for (const id of ids(session.recommendations)) expect(id.startsWith('a')).toBe(true);
    await expect(engine.profile('stranger')).rejects.toThrow(NotFoundError);
  });

  it('profiles a user by category and erases them on request', async () => {
    const { engine, store } = await trainedShop();
    const profile = await engine.profile('au1');
    expect(profile).toMatchObject({ userId: 'au1', interactions: 9, topCategories: [{ category: 'animation', weight: 1 }] });
    // au1's first event is item a0 at T0 + (1·10 + 0) s.
    expect(profile.firstSeen).toBe(new Date(T0 + 10_000).toISOString());
    expect(await engine.deleteUser('au1')).toEqual({ deleted: 9 });
    await expect(engine.profile('au1')).rejects.toThrow(NotFoundError);
    expect(await store.userFeedback('au1')).toEqual([]);
    expect((await engine.recommend('au1', { n: 3 })).recommendations).toHaveLength(3);
  });

  it('refuses feedback for unknown items when auto-creation is off, storing nothing', async () => {
    const { engine, store } = await shop(':memory:', { createMissingItems: false });
    await engine.upsertItems(SHOP_ITEMS);
    await expect(engine.addFeedback({ userId: 'x', itemId: 'ghost', type: 'click', value: null, timestamp: T0 }, 5)).rejects.toThrow(NotFoundError);
    expect(await store.countFeedback()).toBe(0);
  });

  it('stores a large batch in slices, answering other work between them', async () => {
    const { engine, store } = await shop();
    await engine.upsertItems(SHOP_ITEMS);
    const events = Array.from({ length: 2_000 }, (_, t) => ({ userId: `b${t % 50}`, itemId: `h${t % 10}`, type: 'view' as const, value: null, timestamp: T0 + t }));
    const importing = engine.importFeedback(events);
    let midway = -1;
    setImmediate(() => void store.countFeedback().then((count) => (midway = count)));
    expect(await importing).toEqual({ accepted: 2_000, duplicates: 0 });
    // Between two slices another turn of the event loop ran and saw part of the batch stored.
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(2_000);
    // A retry of the same batch stores nothing twice.
    expect(await engine.importFeedback(events)).toEqual({ accepted: 0, duplicates: 2_000 });
  });

  it('refuses a batch naming an unknown item before storing any of it (createMissingItems off)', async () => {
    const { engine, store } = await shop(':memory:', { createMissingItems: false });
    await engine.upsertItems(SHOP_ITEMS);
    const events = Array.from({ length: 1_000 }, (_, t) => ({ userId: 'u', itemId: t === 900 ? 'ghost' : `h${t % 10}`, type: 'view' as const, value: null, timestamp: T0 + t }));
    await expect(engine.importFeedback(events)).rejects.toThrow(/itemId 'ghost' does not exist/);
    expect(await store.countFeedback()).toBe(0);
  });

  it('falls back to the previous model when the newest is corrupt, and says so', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'liverec-')), 'shop.db');
    const first = await trainedShop(path);
    await first.engine.trainNow();
    await first.engine.close();
    await first.store.close();
    open.length = 0;
    const raw = new Database(path);
    raw.prepare("UPDATE models SET bytes = zeroblob(16) WHERE version = 2").run();
    raw.close();
    const { engine } = await shop(path);
    expect(engine.model().version).toBe(1);
    expect((await engine.health()).warnings[0]).toMatch(/model version 2 could not be loaded.*checksum/);
    expect((await engine.recommend('hu0', { n: 1 })).recommendations[0].itemId).toBe('h0');
  });

  it('retrains from the feedback log when no saved model can be read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'liverec-')), 'shop.db');
    const first = await trainedShop(path);
    await first.engine.close();
    await first.store.close();
    open.length = 0;
    const raw = new Database(path);
    raw.prepare('UPDATE models SET bytes = zeroblob(8)').run();
    raw.close();
    const { engine } = await shop(path);
    expect(engine.model().status).toBe('training');
    expect((await engine.health()).warnings).toContain('no saved model could be loaded; retraining from the stored feedback');
    await engine.trainNow();
    expect(engine.model()).toMatchObject({ status: 'ready', version: 2 });
    expect((await engine.recommend('hu0', { n: 1 })).recommendations[0].itemId).toBe('h0');
  });
});
