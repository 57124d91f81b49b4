import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { FakeEngine } from './fake-engine.ts';
import { setup } from './helpers.ts';

const SHOP = 'https://shop.example';
const KEY = 'cors-key';

function preflight(origin: string, method = 'POST') {
  return {
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,content-type',
    },
  };
}

describe('CORS off (default)', () => {
  it('sends no CORS headers and answers OPTIONS with 404', async () => {
    const { call } = setup();
    const get = await call('GET', '/v1/popular', { headers: { origin: SHOP } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const options = await call('OPTIONS', '/v1/feedback', preflight(SHOP));
    expect(options.status).toBe(404);
    expect(options.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('CORS with an origin list', () => {
  it('answers a preflight with 204 and the allowed origin, methods and headers, without a key', async () => {
    const { engine, app } = setup({ apiKey: KEY, cors: { origins: [SHOP, 'http://localhost:3000'] } });
    const res = await app.request('/v1/feedback', { method: 'OPTIONS', ...preflight(SHOP) });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST,PUT,DELETE');
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type,X-Request-Id');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(engine.calls).toStrictEqual([]);
  });

  it('leaves out Allow-Origin for an origin not on the list', async () => {
    const { app } = setup({ cors: { origins: [SHOP] } });
    const res = await app.request('/v1/feedback', { method: 'OPTIONS', ...preflight('https://evil.example') });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const get = await app.request('/v1/popular', { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('marks real responses, errors included, so browsers can read them and their id', async () => {
    const { call } = setup({ apiKey: KEY, cors: { origins: [SHOP] } });
    for (const res of [
      await call('GET', '/v1/popular', { headers: { origin: SHOP } }),
      await call('POST', '/v1/feedback', { json: {}, headers: { origin: SHOP } }), // 401
      await call('GET', '/v1/nothing', { headers: { origin: SHOP } }), // 404
    ]) {
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
      expect(res.headers.get('access-control-expose-headers')).toBe('X-Request-Id,Retry-After');
      expect(res.headers.get('vary')).toContain('Origin');
    }
  });
});

describe("CORS with '*'", () => {
  it('allows any origin', async () => {
    const { app } = setup({ cors: { origins: '*' } });
    const res = await app.request('/v1/items/a', { method: 'OPTIONS', ...preflight('https://anywhere.example', 'PUT') });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type,X-Request-Id');
    const get = await app.request('/health', { headers: { origin: 'https://anywhere.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS configuration', () => {
  it.each([
    [[], "cors.origins must be '*' or a non-empty array of origins"],
    [['https://shop.example/'], "cors.origins: 'https://shop.example/' is not an origin like https://shop.example"],
    [['shop.example'], "cors.origins: 'shop.example' is not an origin like https://shop.example"],
    [['https://shop.example/path'], "cors.origins: 'https://shop.example/path' is not an origin like https://shop.example"],
  ])('rejects %j at startup', (origins, message) => {
    expect(() => createApp(new FakeEngine(), { cors: { origins } })).toThrow(message);
  });
});
