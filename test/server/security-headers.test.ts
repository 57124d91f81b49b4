import { describe, expect, it, vi } from 'vitest';
import { setup } from './helpers.ts';

function expectSecure(headers: Headers) {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  // Left to the TLS edge.
  expect(headers.get('strict-transport-security')).toBeNull();
  expect(headers.get('x-powered-by')).toBeNull();
}

describe('security headers', () => {
  it('are on every response: success, client errors, 413, 429, preflight and 500', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { engine, call } = setup({
      apiKey: 'k',
      maxBodyBytes: 10,
      cors: { origins: '*' },
      rateLimit: { requestsPerSecond: 1, burst: 100 },
    });
    const responses = [
      await call('GET', '/health'),
      await call('GET', '/v1/popular'),
      await call('GET', '/v1/popular?n=0'), // 400
      await call('POST', '/v1/items', { json: [] }), // 401
      await call('GET', '/v1/nothing'), // 404
      await call('POST', '/v1/items', { key: 'k', body: '[                 ]' }), // 413
      await call('OPTIONS', '/v1/items', { headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' } }),
    ];
    engine.failNext(new Error('boom'));
    responses.push(await call('GET', '/v1/model'));
    expect(responses.map((r) => r.status)).toStrictEqual([200, 200, 400, 401, 404, 413, 204, 500]);
    for (const res of responses) expectSecure(res.headers);

    const limited = setup({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    await limited.call('GET', '/v1/model');
    const res = await limited.call('GET', '/v1/model');
    expect(res.status).toBe(429);
    expectSecure(res.headers);
    vi.restoreAllMocks();
  });

  it('leave a header a route set itself alone (an HTML page needs its own CSP)', async () => {
    const { app } = setup();
    app.get('/page', (c) => {
      c.header('Content-Security-Policy', "default-src 'self'");
      c.header('Cache-Control', 'max-age=60');
      return c.html('<p>hi</p>');
    });
    const res = await app.request('/page');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(res.headers.get('cache-control')).toBe('max-age=60');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('keep the JSON content type', async () => {
    const { call } = setup();
    expect((await call('GET', '/v1/popular')).headers.get('content-type')).toMatch(/^application\/json/);
  });
});
