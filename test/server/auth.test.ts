import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { FakeEngine } from './fake-engine.ts';
import { setup } from './helpers.ts';

const KEY = 'k3y-with-some-length';
const UNAUTHORIZED = {
  error: {
    code: 'unauthorized',
    message: 'this route requires an API key: send the header Authorization: Bearer <key>',
    field: null,
  },
};

describe('apiKey', () => {
  const writes: Array<[string, string, unknown]> = [
    ['POST', '/v1/items', [{ itemId: 'a' }]],
    ['PUT', '/v1/items/a', {}],
    ['DELETE', '/v1/items/a', undefined],
    ['POST', '/v1/feedback', { userId: 'u1', itemId: 'a', type: 'view' }],
    ['DELETE', '/v1/users/u1', undefined],
    ['POST', '/v1/session/recommend', { items: [] }],
    ['POST', '/v1/model/train', undefined],
  ];

  it.each(writes)('%s %s answers 401 without a key, with a wrong key or scheme', async (method, path, json) => {
    const { engine, call } = setup({ apiKey: KEY });
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${KEY}x` },
      { authorization: `Basic ${KEY}` },
      { authorization: KEY },
    ];
    for (const headers of attempts) {
      const res = await call(method, path, { json, headers });
      expect(res.status).toBe(401);
      expect(res.body).toStrictEqual(UNAUTHORIZED);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(engine.calls).toStrictEqual([]);
  });

  it.each(writes)('%s %s succeeds with the right key', async (method, path, json) => {
    const { engine, call } = setup({ apiKey: KEY });
    engine.items.set('a', { itemId: 'a', title: null, categories: [], metadata: {}, available: true, createdAt: 0, updatedAt: 0 });
    const res = await call(method, path, { json, key: KEY });
    expect([200, 202]).toContain(res.status);
    expect(engine.calls.length).toBeGreaterThan(0);
  });

  it('leaves reads and /health open', async () => {
    const { call } = setup({ apiKey: KEY });
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/v1/popular')).status).toBe(200);
    expect((await call('GET', '/v1/model')).status).toBe(200);
  });

  it('is not required when unset', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/model/train')).status).toBe(202);
  });

  it('rejects an empty key at startup', () => {
    expect(() => createApp(new FakeEngine(), { apiKey: '' })).toThrow('apiKey must be a non-empty string when set');
  });
});

describe('readKey', () => {
  it('guards GETs under /v1 but not /health; accepts the read key or the api key', async () => {
    const { call } = setup({ apiKey: KEY, readKey: 'reader' });
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/v1/model')).body).toStrictEqual(UNAUTHORIZED);
    expect((await call('GET', '/v1/model', { key: 'wrong' })).status).toBe(401);
    expect((await call('GET', '/v1/model', { key: 'reader' })).status).toBe(200);
    expect((await call('GET', '/v1/model', { key: KEY })).status).toBe(200);
  });

  it('does not open writes', async () => {
    const { engine, call } = setup({ apiKey: KEY, readKey: 'reader' });
    expect((await call('POST', '/v1/model/train', { key: 'reader' })).status).toBe(401);
    expect(engine.calls).toStrictEqual([]);
  });
});
