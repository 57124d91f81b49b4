/**
 * Several servers on one PostgreSQL database (a real one, started by the test setup): each is an
 * Engine on its own PostgresStore (own connection pool, own training thread), served over HTTP
 * as `liverec serve --db postgres://…` serves it. What one server is told, the others answer:
 * a user's post (read-your-writes), a retrain's model, an erasure, a catalog change, a quarantine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';
import { freshDatabase } from '../support/postgres.ts';

interface Server {
  store: PostgresStore;
  engine: Engine;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

// The blend off: the shop's users all have short histories, whose blended scores are by rank; the erasure check below needs
// the model's own scores, which every erasure moves.
const CONFIG = { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0, floodEventsPerSecond: 1000, blend: false } as const;
let url: string;
let a: Server;
let b: Server;

async function server(): Promise<Server> {
  const store = await PostgresStore.open(url);
  const engine = await Engine.open(store, CONFIG);
  const app = createApp(engine, { log: false });
  return {
    store,
    engine,
    async call(method, path, body) {
      const response = await app.request(path, {
        method,
        ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}

/** Polls `probe` until it returns true, failing after `ms`; returns the milliseconds it took. */
async function within(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await probe())) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - start;
}

beforeAll(async () => {
  url = await freshDatabase();
  a = await server();
  b = await server();
  await a.engine.upsertItems(SHOP_ITEMS);
  await a.engine.importFeedback(shopFeedback());
  await a.engine.trainNow();
});

afterAll(async () => {
  for (const s of [a, b]) {
    await s?.engine.close();
    await s?.store.close();
  }
});

describe('servers sharing one PostgreSQL database', () => {
  it('load the model another server trained, within 2 s, and answer from it', async () => {
    const version = a.engine.model().version!;
    expect(version).toBeGreaterThan(0);
    await within(2000, async () => (await b.call('GET', '/v1/model')).body.version === version);
    const fromA = await a.call('GET', '/v1/users/hu0/recommendations?n=5');
    const fromB = await b.call('GET', '/v1/users/hu0/recommendations?n=5');
    expect(fromB.body.modelVersion).toBe(version);
    // hu0 skipped h0 in training: both servers rank it first, from the same factors.
    expect(fromA.body.recommendations[0].itemId).toBe('h0');
    expect(fromB.body.recommendations.map((r: { itemId: string }) => r.itemId)).toEqual(fromA.body.recommendations.map((r: { itemId: string }) => r.itemId));
  });

  it('read your writes: a post answered by one server shows in the next read from the other', async () => {
    // A horror fan turns to animation on A; B's next answers reflect every one of those posts.
    await b.call('GET', '/v1/users/hu1/recommendations?n=10');
    const before = await b.call('GET', '/v1/users/hu1/profile');
    expect(before.body.topCategories[0].category).toBe('horror');
    for (let i = 0; i < 10; i++) {
      const posted = await a.call('POST', '/v1/feedback', { userId: 'hu1', itemId: `a${i}`, type: 'purchase', timestamp: T0 + 10_000_000 + i });
      expect(posted.status).toBe(200);
    }
    const profile = await b.call('GET', '/v1/users/hu1/profile');
    expect(profile.body.interactions).toBe(before.body.interactions + 10);
    expect(profile.body.topCategories[0].category).toBe('animation');
    const recs = await b.call('GET', '/v1/users/hu1/recommendations?n=10');
    // Everything hu1 bought is excluded on B too, and what is left leans to animation.
    const ids = recs.body.recommendations.map((r: { itemId: string }) => r.itemId);
    expect(ids.filter((id: string) => /^a\d$/.test(id))).toEqual([]);
    const afterA = await a.call('GET', '/v1/users/hu1/recommendations?n=10');
    expect(ids).toEqual(afterA.body.recommendations.map((r: { itemId: string }) => r.itemId));
  });

  it('sees items upserted or retired on another server within 2 s (feedback on a new item is accepted, a retired one is never recommended)', async () => {
    expect((await a.call('POST', '/v1/items', [{ itemId: 'h10', title: 'Horror 10', categories: ['horror'] }])).status).toBe(200);
    await within(2000, async () => (await b.call('POST', '/v1/feedback', { userId: 'hu2', itemId: 'h10', type: 'click', timestamp: T0 + 20_000_000 })).status === 200);
    expect((await a.call('DELETE', '/v1/items/h0')).body).toEqual({ itemId: 'h0', available: false });
    await within(2000, async () => {
      const recs = await b.call('GET', '/v1/users/hu0/recommendations?n=19');
      return !recs.body.recommendations.some((r: { itemId: string }) => r.itemId === 'h0');
    });
  });

  it('erases a user on every server: the other answers 404 and no longer holds the vector within 2 s', async () => {
    await b.call('GET', '/v1/users/au3/recommendations?n=3');
    expect(b.engine.servingModel!.hasUser('au3')).toBe(true);
    expect((await a.call('DELETE', '/v1/users/au3')).status).toBe(200);
    await within(2000, async () => !b.engine.servingModel!.hasUser('au3'));
    expect((await b.call('GET', '/v1/users/au3/profile')).status).toBe(404);
    // What B still answers for the id is the cold-start list, not a profile.
    const cold = await b.call('GET', '/v1/users/au3/recommendations?n=3');
    const popular = await b.call('GET', '/v1/popular?n=3');
    expect(cold.body.recommendations).toEqual(popular.body.recommendations);
  });

  it('applies a quarantine set on one server on the others, and lifts it the same way', async () => {
    const popular = new Map((await b.call('GET', '/v1/popular?n=30')).body.recommendations.map((r: { itemId: string; score: number }) => [r.itemId, r.score]));
    const personal = await b.call('GET', '/v1/users/hu4/recommendations?n=3');
    expect(personal.body.recommendations[0].itemId).toBe('h4');
    await a.store.flagUser('hu4', 'test quarantine', Date.now());
    await within(2000, async () => (await b.engine.metrics()).quarantinedUsers === 1);
    // Quarantined on B: no personal list any more, only popular items (with their popularity scores).
    const cold = await b.call('GET', '/v1/users/hu4/recommendations?n=3');
    for (const r of cold.body.recommendations) expect(r.score).toBe(popular.get(r.itemId));
    expect((await b.call('POST', '/v1/users/hu4/unflag')).status).toBe(200);
    await within(2000, async () => (await a.engine.metrics()).quarantinedUsers === 0);
    expect((await a.call('GET', '/v1/users/hu4/recommendations?n=3')).body.recommendations[0].itemId).toBe('h4');
  });

  it('retrains on one server at a time: asked while another holds the retrain lock, a server skips; the model one saves, all load', async () => {
    const before = a.engine.model().version!;
    // The test before saved a model on A (the erasure's scrub); B loads it within 2 s.
    await within(2000, async () => b.engine.model().version === before);
    const held = await a.store.replication.tryLock('liverec:retrain');
    expect(held).not.toBeNull();
    // A second holder is refused while the first holds it.
    expect(await b.store.replication.tryLock('liverec:retrain')).toBeNull();
    await expect(b.engine.trainNow()).rejects.toThrow(/another server is retraining/);
    expect(b.engine.model().version).toBe(before);
    await held!();
    const info = await b.engine.trainNow();
    expect(info.version).toBeGreaterThan(before);
    await within(2000, async () => a.engine.model().version === info.version);
  });

  it("drops a list this server cached when another server changes what it was ranked from: a post, an item, a quarantine, an erasure", async () => {
    const ids = (body: { recommendations: Array<{ itemId: string }> }) => body.recommendations.map((r) => r.itemId);
    const hits = async () => (await b.engine.metrics()).listCache.hits;
    /** B's answer to a read its cache answered (the read before it filled the cache). */
    const cachedOnB = async (path: string) => {
      await b.call('GET', path);
      const before = await hits();
      const { body } = await b.call('GET', path);
      expect(await hits()).toBe(before + 1);
      return body;
    };
    const same = async (path: string) => ids((await b.call('GET', path)).body).join() === ids((await a.call('GET', path)).body).join();
    // These bounds are liveness limits for the change log's poll (every second), not timings under test.
    const LIVENESS_MS = 5000;

    // A post on A: B's next read checks the user against the log, so it needs no wait.
    const hu5 = '/v1/users/hu5/recommendations?n=5';
    expect(ids(await cachedOnB(hu5))).toContain('h5');
    expect((await a.call('POST', '/v1/feedback', { userId: 'hu5', itemId: 'h5', type: 'purchase', timestamp: T0 + 30_000_000 })).status).toBe(200);
    expect(ids((await b.call('GET', hu5)).body)).not.toContain('h5');
    expect(await same(hu5)).toBe(true);

    // An item retired on A, then one added (placed at its category's mean vector, near the top for a horror fan).
    const hu6 = '/v1/users/hu6/recommendations?n=5';
    expect(ids(await cachedOnB(hu6))).toContain('h6');
    expect((await a.call('DELETE', '/v1/items/h6')).status).toBe(200);
    await within(LIVENESS_MS, async () => !ids((await b.call('GET', hu6)).body).includes('h6'));
    expect(ids(await cachedOnB(hu6))).not.toContain('h11');
    expect((await a.call('POST', '/v1/items', [{ itemId: 'h11', categories: ['horror'] }])).status).toBe(200);
    await within(LIVENESS_MS, async () => ids((await b.call('GET', hu6)).body).includes('h11'));

    // A quarantine set on A, then lifted on A.
    const hu7 = '/v1/users/hu7/recommendations?n=3';
    const personal = await cachedOnB(hu7);
    await a.store.flagUser('hu7', 'test quarantine', Date.now());
    await within(LIVENESS_MS, async () => ids((await b.call('GET', hu7)).body).join() !== ids(personal).join());
    expect((await a.call('POST', '/v1/users/hu7/unflag')).status).toBe(200);
    await within(LIVENESS_MS, async () => ids((await b.call('GET', hu7)).body).join() === ids(personal).join());

    // An erasure on A: the erased user's list goes at once, the others' once A's scrubbed model reaches B.
    const au6 = '/v1/users/au6/recommendations?n=3';
    const au7 = '/v1/users/au7/recommendations?n=10';
    await cachedOnB(au6);
    const before = await cachedOnB(au7);
    expect((await a.call('DELETE', '/v1/users/au6')).status).toBe(200);
    const popular = (await b.call('GET', '/v1/popular?n=3')).body.recommendations;
    await within(LIVENESS_MS, async () => JSON.stringify((await b.call('GET', au6)).body.recommendations) === JSON.stringify(popular));
    await within(LIVENESS_MS, async () => b.engine.model().version === a.engine.model().version);
    const after = (await b.call('GET', au7)).body;
    expect(after.recommendations).not.toEqual(before.recommendations);
    // The same ranking as A's (scores agree to float rounding: A scrubbed its serving model in place, B loaded the saved one).
    expect(ids(after)).toEqual(ids((await a.call('GET', au7)).body));
  });
});
