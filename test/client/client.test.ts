import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { createClient as packageClient, Profile } from 'liverec/client';
import { createClient, LiverecError, type LiverecClient } from '../../src/client/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import * as responses from '../../src/server/responses.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const KEY = 'client-secret';
const READ_KEY = 'client-read';
let store: SqliteStore;
let engine: Engine;
let app: ReturnType<typeof createApp>;

/** A client whose fetch is the in-process app. */
function clientWith(apiKey?: string, baseUrl = 'http://liverec.test'): LiverecClient {
  return createClient({ baseUrl, apiKey, fetch: (url, init) => app.request(url, init) });
}

/** The rejection of `promise`, which must be a LiverecError. */
async function failure(promise: Promise<unknown>): Promise<LiverecError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LiverecError);
  return error as LiverecError;
}

beforeAll(async () => {
  store = SqliteStore.open(':memory:');
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0 });
  app = createApp(engine, { apiKey: KEY, readKey: READ_KEY });
});

afterAll(async () => {
  await engine.close();
  await store.close();
});

describe('the typed client against an in-process app', () => {
  it('runs a full flow: items, feedback, training, explained recommendations, profile', async () => {
    const client = clientWith(KEY);
    expect(await client.upsertItems(SHOP_ITEMS)).toEqual({ upserted: 20 });
    expect(await client.feedbackBatch(shopFeedback())).toEqual({ accepted: 216, duplicates: 0 });
    const { jobId } = await client.train();
    expect(jobId).toEqual(expect.any(String));
    for (let i = 0; i < 200 && (await client.model()).status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
    const model = await client.model();
    expect(model).toMatchObject({ version: 1, status: 'ready', algorithm: 'implicit-als' });

    const live = await client.feedback({ userId: 'hu4', itemId: 'h4', type: 'purchase', timestamp: new Date(T0 + 1e7).toISOString() }, { n: 3 });
    expect(live).toMatchObject({ accepted: 1, duplicates: 0, userId: 'hu4', modelVersion: 1 });
    expect(live.recommendations).toHaveLength(3);

    const explained = await client.recommendations('hu1', { n: 2, explain: true, excludeCategory: ['animation'] });
    expect(explained.userId).toBe('hu1');
    expect(explained.recommendations.map((r) => r.itemId)).toEqual(['h1']);
    const history = new Set((await store.userFeedback('hu1')).map((e) => e.itemId));
    for (const b of explained.recommendations[0].because!) expect('itemId' in b ? history.has(b.itemId) : b.category === 'horror').toBe(true);

    const profile = await client.profile('hu2');
    expect(profile).toMatchObject({ userId: 'hu2', interactions: 9, topCategories: [{ category: 'horror', weight: 1 }] });
    expect(responses.profile.parse(profile)).toEqual(profile);
  });

  it('covers the other operations', async () => {
    const client = clientWith(KEY);
    expect(await client.health()).toMatchObject({ status: 'ok', items: 20 });
    const popular = await client.popular({ n: 3, category: ['animation'] });
    expect(popular.recommendations.every((r) => r.itemId.startsWith('a'))).toBe(true);
    expect((await client.session(['h1', 'h2'], { n: 3 })).recommendations).toHaveLength(3);
    expect((await client.similarItems('a3', { n: 3 })).similar.every((s) => s.itemId.startsWith('a'))).toBe(true);
    expect((await client.similarUsers('hu1', { n: 2 })).similar).toHaveLength(2);

    const item = await client.putItem('new/1', { title: 'New one', categories: ['horror'], metadata: { year: 2024 } });
    expect(item).toMatchObject({ itemId: 'new/1', title: 'New one', available: true });
    expect(await client.getItem('new/1')).toEqual(item);
    expect(await client.deleteItem('new/1')).toEqual({ itemId: 'new/1', available: false });

    const partial = await client.feedbackBatch([{ userId: 'hu7', itemId: 'h2', type: 'click', timestamp: T0 + 5e6 }, { userId: 'hu7', itemId: 'h2', type: 'rating' }], { partial: true });
    expect(partial).toEqual({ accepted: 1, duplicates: 0, rejected: [{ index: 1, field: '[1].value', message: '[1].value must be a number from 0.5 to 5 when type is rating' }] });

    expect((await client.segments()).segments.length).toBeGreaterThan(0);
    expect((await client.segmentMap()).points.length).toBeGreaterThan(0);
    expect((await client.stats()).feedback.total).toBeGreaterThan(216);
    expect(await client.evaluations()).toEqual([]);
    expect((await client.exportUser('hu3')).feedback).toHaveLength(9);
    expect(await client.unflag('hu3')).toEqual({ userId: 'hu3', flags: [] });
    expect(await client.deleteUser('hu3')).toEqual({ userId: 'hu3', deleted: 9 });
    const gone = await failure(client.profile('hu3'));
    expect(gone).toMatchObject({ status: 404, code: 'not_found', field: 'userId' });
  });

  it('throws LiverecError with the field and rule for bad input', async () => {
    const client = clientWith(KEY);
    const error = await failure(client.recommendations('hu1', { n: 0 }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_input', field: 'n', message: 'n must be an integer from 1 to 100' });
    expect(error.name).toBe('LiverecError');
    const bad = await failure(client.feedback({ userId: 'u', itemId: 'h1', type: 'view', timestamp: 'yesterday' }));
    expect(bad).toMatchObject({ status: 400, field: 'timestamp' });
  });

  it('throws 401 for a wrong key, and reads with the read key but cannot write with it', async () => {
    const wrong = await failure(clientWith('not-the-key').feedback({ userId: 'u', itemId: 'h1', type: 'view' }));
    expect(wrong).toMatchObject({ status: 401, code: 'unauthorized', field: null });
    expect(wrong.requestId).toEqual(expect.any(String));
    expect((await failure(clientWith().model())).status).toBe(401);
    const reader = clientWith(READ_KEY);
    expect((await reader.model()).status).toBe('ready');
    expect((await failure(reader.train())).status).toBe(401);
  });

  it('encodes path parameters and lists, and keeps a base path', async () => {
    const urls: string[] = [];
    const client = createClient({
      baseUrl: 'https://api.example.com/recs/',
      apiKey: KEY,
      fetch: (url, init) => {
        urls.push(url);
        return app.request(url.replace('/recs', ''), init);
      },
    });
    await client.recommendations('user with/slash', { category: ['horror', 'animation'], explain: false });
    expect(urls).toEqual(['https://api.example.com/recs/v1/users/user%20with%2Fslash/recommendations?category=horror&category=animation&explain=false']);
  });

  it('reports a response that is not liverec\'s as http_error', async () => {
    const client = createClient({ baseUrl: 'http://x', fetch: () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }) });
    expect(await failure(client.health())).toMatchObject({ status: 502, code: 'http_error', message: 'HTTP 502 Bad Gateway', field: null });
  });
});

describe('the client package entry', () => {
  it('bundles for the browser without node built-ins, the server, or zod', async () => {
    const result = await build({ entryPoints: ['src/client/index.ts'], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.sort()).toEqual(['src/client/error.ts', 'src/client/index.ts']);
    expect(result.outputFiles[0].text).not.toMatch(/node:|require\(/);
  });

  it('types requests and answers from the server schemas (checked by tsc, through the exports map)', () => {
    type Client = ReturnType<typeof packageClient>;
    expectTypeOf<Awaited<ReturnType<Client['profile']>>>().toEqualTypeOf<Profile>();
    expectTypeOf<Profile>().toEqualTypeOf<z.output<typeof responses.profile>>();
    expectTypeOf<Parameters<Client['recommendations']>[1]>().toEqualTypeOf<
      { n?: number; category?: string[]; excludeCategory?: string[]; exclude?: string[]; explain?: boolean; diversity?: number; reshowAfterDays?: number } | undefined
    >();
    const client = clientWith();
    const strict = () => client.feedbackBatch([]);
    const partial = () => client.feedbackBatch([], { partial: true });
    expectTypeOf<Awaited<ReturnType<typeof strict>>>().toEqualTypeOf<{ accepted: number; duplicates: number }>();
    expectTypeOf<Awaited<ReturnType<typeof partial>>['rejected'][number]>().toEqualTypeOf<{ index: number; field: string; message: string }>();
    // @ts-expect-error n is a number, not a string
    void (() => client.recommendations('u', { n: '3' }));
    // @ts-expect-error type must be one of the feedback types
    void (() => client.feedback({ userId: 'u', itemId: 'i', type: 'watch' }));
  });

  it('is exported as liverec/client, built by the build and pretest scripts', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const entry = pkg.exports['./client'];
    expect(entry.types).toBe('./dist/client/index.d.ts');
    expect(pkg.scripts['build:client']).toContain(`--outfile=${entry.default.slice(2)}`);
    expect(pkg.scripts.build).toContain('build:client');
    for (const script of ['pretest', 'prepack']) expect(pkg.scripts[script]).toBe('npm run build');
  });
});
