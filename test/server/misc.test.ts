import { describe, expect, it } from 'vitest';
import { MODEL_INFO, recs } from './fake-engine.ts';
import { ID_257, invalid, setup } from './helpers.ts';

describe('GET /health', () => {
  it('returns engine.health()', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toStrictEqual({ status: 'ok', model: { version: 3, status: 'ready' }, items: 0, feedback: 42, warnings: [] });
    expect(engine.calls).toStrictEqual([{ method: 'health', args: [] }]);
  });
});

describe('GET /v1/popular', () => {
  it('passes n and categories', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/v1/popular?n=3&category=shoes,hats');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ recommendations: recs(3) });
    expect(engine.calls).toStrictEqual([{ method: 'popular', args: [{ n: 3, categories: ['shoes', 'hats'] }] }]);
  });

  it('defaults to n=10 without categories; rejects a bad n', async () => {
    const { engine, call } = setup();
    await call('GET', '/v1/popular?category=');
    expect(engine.calls).toStrictEqual([{ method: 'popular', args: [{ n: 10 }] }]);
    expect((await call('GET', '/v1/popular?n=500')).body).toStrictEqual(invalid('n', 'n must be an integer from 1 to 100'));
  });
});

describe('POST /v1/session/recommend', () => {
  it('recommends from the session items with n', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/session/recommend', { json: { items: ['a', 'b'], n: 2 } });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ modelVersion: 3, recommendations: recs(2) });
    expect(engine.calls).toStrictEqual([{ method: 'recommendSession', args: [['a', 'b'], { n: 2 }] }]);
  });

  it('accepts an empty session and defaults n to 10', async () => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/session/recommend', { json: { items: [] } })).body.recommendations).toHaveLength(10);
    expect(engine.calls[0].args).toStrictEqual([[], { n: 10 }]);
  });

  it.each([
    [{}, 'items', 'items is required'],
    [{ items: 'a' }, 'items', 'items must be an array'],
    [{ items: ['a', 'b', ''] }, 'items[2]', 'items[2] must be 1–256 characters'],
    [{ items: [ID_257] }, 'items[0]', 'items[0] must be 1–256 characters'],
    [{ items: Array(1_001).fill('a') }, 'items', 'items must be at most 1000 entries'],
    [{ items: [], n: 0 }, 'n', 'n must be an integer from 1 to 100'],
    [{ items: [], n: 2.5 }, 'n', 'n must be an integer from 1 to 100'],
    [{ items: [], n: '5' }, 'n', 'n must be an integer from 1 to 100'],
  ])('rejects %j', async (json, field, message) => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/session/recommend', { json });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid(field, message));
    expect(engine.calls).toStrictEqual([]);
  });

  it('accepts 1,000 items', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/session/recommend', { json: { items: Array(1_000).fill('a') } })).status).toBe(200);
  });
});

describe('model routes', () => {
  it('GET /v1/model returns engine.model()', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/model');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(MODEL_INFO);
  });

  it('POST /v1/model/train answers 202 with the job id', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/model/train');
    expect(res.status).toBe(202);
    expect(res.body).toStrictEqual({ jobId: 'job-1' });
    expect(engine.calls).toStrictEqual([{ method: 'train', args: [] }]);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error shape', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nothing', field: null } });
  });
});
