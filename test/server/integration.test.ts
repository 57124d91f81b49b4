import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const KEY = 'integration-secret';
let store: SqliteStore;
let engine: Engine;
let app: ReturnType<typeof createApp>;

async function call(method: string, path: string, json?: unknown, key: string | null = KEY) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await app.request(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: res.status, body: await res.json() };
}

beforeEach(async () => {
  store = SqliteStore.open(':memory:');
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0 });
  app = createApp(engine, { apiKey: KEY });
  expect((await call('POST', '/v1/items', SHOP_ITEMS)).body).toEqual({ upserted: 20 });
  expect((await call('POST', '/v1/feedback', shopFeedback())).body).toEqual({ accepted: 216, duplicates: 0 });
  const train = await call('POST', '/v1/model/train');
  expect(train.status).toBe(202);
  await engine.trainNow();
});

afterEach(async () => {
  await engine.close();
  await store.close();
});

describe('HTTP API over the real engine', () => {
  it('answers a feedback post with the updated list, then serves the same list on GET', async () => {
    const post = await call('POST', '/v1/feedback?n=3', { userId: 'hu4', itemId: 'h4', type: 'purchase', timestamp: new Date(T0 + 1e7).toISOString() });
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ accepted: 1, duplicates: 0, userId: 'hu4', modelVersion: 1 });
    expect(post.body.recommendations).toHaveLength(3);
    expect(post.body.recommendations.map((r: { itemId: string }) => r.itemId)).not.toContain('h4');
    const get = await call('GET', '/v1/users/hu4/recommendations?n=3', undefined, null);
    expect(get.body).toEqual({ userId: 'hu4', modelVersion: 1, recommendations: post.body.recommendations });
    const stored = (await store.userFeedback('hu4')).find((e) => e.itemId === 'h4')!;
    expect(stored).toMatchObject({ type: 'purchase', value: null, timestamp: T0 + 1e7 });
  });

  it('stores every one of many concurrent posts', async () => {
    const posts = Array.from({ length: 50 }, (_, i) =>
      call('POST', '/v1/feedback', { userId: `c${i % 5}`, itemId: `a${i % 10}`, type: 'view', timestamp: T0 + i }),
    );
    const results = await Promise.all(posts);
    expect(results.every((r) => r.status === 200 && r.body.accepted === 1)).toBe(true);
    expect((await store.countFeedback())).toBe(216 + 50);
  });

  it('refuses an 8 MiB body with 413 and stores nothing', async () => {
    const big = JSON.stringify(Array.from({ length: 90_000 }, (_, i) => ({ userId: `u${i}`, itemId: 'h1', type: 'view', timestamp: T0, pad: 'x'.repeat(60) })));
    expect(big.length).toBeGreaterThan(8 * 1024 * 1024);
    const res = await app.request('/v1/feedback', { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
    expect((await store.countFeedback())).toBe(216);
  });

  it('requires the key for writes, never for health, and 404s unknown items', async () => {
    const denied = await call('POST', '/v1/feedback', { userId: 'x', itemId: 'h1', type: 'view' }, null);
    expect(denied.status).toBe(401);
    expect((await store.countFeedback())).toBe(216);
    const health = await call('GET', '/health', undefined, null);
    expect(health.body).toEqual({ status: 'ok', model: { version: 1, status: 'ready' }, items: 20, feedback: 216, warnings: [] });
    const similar = await call('GET', '/v1/items/nope/similar', undefined, null);
    expect(similar.status).toBe(404);
    expect(similar.body.error).toMatchObject({ code: 'not_found', field: 'itemId' });
  });

  it('reports the model, similar items and the profile', async () => {
    const model = await call('GET', '/v1/model', undefined, null);
    expect(model.body).toMatchObject({ version: 1, status: 'ready', algorithm: 'implicit-als', params: { factors: 4, alpha: 2 } });
    const similar = await call('GET', '/v1/items/a3/similar?n=3', undefined, null);
    expect(similar.body.itemId).toBe('a3');
    for (const s of similar.body.similar) expect(s.itemId.startsWith('a')).toBe(true);
    const profile = await call('GET', '/v1/users/hu2/profile', undefined, null);
    expect(profile.body).toMatchObject({ userId: 'hu2', interactions: 9, topCategories: [{ category: 'horror', weight: 1 }] });
    const erased = await call('DELETE', '/v1/users/hu2');
    expect(erased.body).toEqual({ userId: 'hu2', deleted: 9 });
    expect((await call('GET', '/v1/users/hu2/profile', undefined, null)).status).toBe(404);
  });

  it('serves explanations, business rules, segments, stats, export and the dashboard', async () => {
    const explained = await call('GET', '/v1/users/hu1/recommendations?n=2&explain=true&excludeCategory=animation', undefined, null);
    expect(explained.status).toBe(200);
    expect(explained.body.recommendations.map((r: { itemId: string }) => r.itemId)).toEqual(['h1']);
    const history = new Set((await store.userFeedback('hu1')).map((e) => e.itemId));
    // Item reasons are the user's items; a short history's blend adds the category it leans on.
    for (const b of explained.body.recommendations[0].because) expect('itemId' in b ? history.has(b.itemId) : b.category === 'horror').toBe(true);
    expect(explained.body.recommendations[0].because).toContainEqual({ category: 'horror', weight: expect.any(Number) });
    const bad = await call('GET', '/v1/users/hu1/recommendations?diversity=2', undefined, null);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('diversity');
    const segments = await call('GET', '/v1/segments', undefined, null);
    expect(segments.body.segments.reduce((sum: number, s: { size: number }) => sum + s.size, 0)).toBe(24);
    const map = await call('GET', '/v1/segments/map', undefined, null);
    expect(map.body.points).toHaveLength(24);
    const stats = await call('GET', '/v1/stats', undefined, null);
    expect(stats.body.feedback).toEqual({ total: 216, byType: { purchase: 216 } });
    const exported = await call('GET', '/v1/users/hu1/export', undefined, null);
    expect(exported.body.feedback).toHaveLength(9);
    expect(exported.body.profile.userId).toBe('hu1');
    expect((await call('POST', '/v1/users/hu1/unflag')).body).toEqual({ userId: 'hu1', flags: [] });
    const page = await app.request('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });
});
