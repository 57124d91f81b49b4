import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { clientIdentity, TokenBuckets } from '../../src/server/rate-limit.ts';
import { FakeEngine } from './fake-engine.ts';
import { NOW, setup } from './helpers.ts';

const KEY = 'rate-key';

/** A setup whose clock the test moves. */
function limited(rateLimit: { requestsPerSecond: number; burst: number }, options: { apiKey?: string; readKey?: string } = {}) {
  const clock = { t: NOW };
  const ctx = setup({ ...options, rateLimit, now: () => clock.t });
  return { ...ctx, clock };
}

const RATE_LIMITED = (seconds: number) => ({
  error: { code: 'rate_limited', message: `too many requests: slow down and retry after ${seconds} s`, field: null },
});

describe('rate limiting', () => {
  it('is off by default', async () => {
    const { call } = setup();
    for (let i = 0; i < 50; i++) expect((await call('GET', '/v1/model')).status).toBe(200);
  });

  it('allows the burst, then answers 429 with Retry-After and the error body, without calling the engine', async () => {
    const { engine, call } = limited({ requestsPerSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/popular')).status).toBe(200);
    const res = await call('GET', '/v1/popular');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body).toStrictEqual(RATE_LIMITED(1));
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(engine.calls).toHaveLength(3);
  });

  it('refills at requestsPerSecond', async () => {
    const { call, clock } = limited({ requestsPerSecond: 2, burst: 1 });
    expect((await call('GET', '/v1/model')).status).toBe(200);
    expect((await call('GET', '/v1/model')).status).toBe(429);
    clock.t += 499;
    expect((await call('GET', '/v1/model')).status).toBe(429);
    clock.t += 1;
    expect((await call('GET', '/v1/model')).status).toBe(200);
    expect((await call('GET', '/v1/model')).status).toBe(429);
    // A long rest refills no more than the burst.
    clock.t += 60_000;
    expect((await call('GET', '/v1/model')).status).toBe(200);
    expect((await call('GET', '/v1/model')).status).toBe(429);
  });

  it('words Retry-After in whole seconds, rounded up, at least 1', async () => {
    const slow = limited({ requestsPerSecond: 0.1, burst: 1 });
    await slow.call('GET', '/v1/model');
    expect((await slow.call('GET', '/v1/model')).headers.get('retry-after')).toBe('10');
    slow.clock.t += 2_500;
    const res = await slow.call('GET', '/v1/model');
    expect(res.headers.get('retry-after')).toBe('8'); // 7.5 s left
    expect(res.body).toStrictEqual(RATE_LIMITED(8));

    const fast = limited({ requestsPerSecond: 1000, burst: 1 });
    await fast.call('GET', '/v1/model');
    expect((await fast.call('GET', '/v1/model')).headers.get('retry-after')).toBe('1');
  });

  it('exempts /health', async () => {
    const { call } = limited({ requestsPerSecond: 1, burst: 1 });
    expect((await call('GET', '/v1/model')).status).toBe(200);
    expect((await call('GET', '/v1/model')).status).toBe(429);
    for (let i = 0; i < 20; i++) expect((await call('GET', '/health')).status).toBe(200);
  });

  it('counts each configured key apart from keyless clients, and an unknown key as keyless', async () => {
    const { call } = limited({ requestsPerSecond: 1, burst: 2 }, { apiKey: KEY, readKey: 'reader' });
    // Keyless (here: the fallback address) spends its bucket on reads…
    expect((await call('GET', '/v1/popular')).status).toBe(401);
    expect((await call('GET', '/v1/popular')).status).toBe(401);
    expect((await call('GET', '/v1/popular')).status).toBe(429);
    // …a made-up key does not get a fresh bucket…
    expect((await call('GET', '/v1/popular', { key: 'made-up' })).status).toBe(429);
    // …while each real key has its own.
    for (const key of [KEY, 'reader']) {
      expect((await call('GET', '/v1/popular', { key })).status).toBe(200);
      expect((await call('GET', '/v1/popular', { key })).status).toBe(200);
      expect((await call('GET', '/v1/popular', { key })).status).toBe(429);
    }
  });

  it('throttles key guessing: it runs before the key check', async () => {
    const { engine, call } = limited({ requestsPerSecond: 1, burst: 2 }, { apiKey: KEY });
    const guesses = [];
    for (let i = 0; i < 5; i++) guesses.push((await call('POST', '/v1/model/train', { key: `guess-${i}` })).status);
    expect(guesses).toStrictEqual([401, 401, 429, 429, 429]);
    expect(engine.calls).toStrictEqual([]);
  });

  it.each([
    [{ requestsPerSecond: 0, burst: 1 }, 'rateLimit.requestsPerSecond must be a positive number, got 0'],
    [{ requestsPerSecond: Number.NaN, burst: 1 }, 'rateLimit.requestsPerSecond must be a positive number, got NaN'],
    [{ requestsPerSecond: 1, burst: 0 }, 'rateLimit.burst must be a positive integer, got 0'],
    [{ requestsPerSecond: 1, burst: 1.5 }, 'rateLimit.burst must be a positive integer, got 1.5'],
  ])('rejects %j at startup', (rateLimit, message) => {
    expect(() => createApp(new FakeEngine(), { rateLimit })).toThrow(message);
  });
});

describe('TokenBuckets memory', () => {
  it('forgets buckets once idle long enough to be full again', () => {
    const clock = { t: 0 };
    const buckets = new TokenBuckets({ requestsPerSecond: 10, burst: 5 }, () => clock.t); // full after 500 ms
    for (let i = 0; i < 1000; i++) buckets.take(`client-${i}`);
    expect(buckets.size).toBe(1000);
    clock.t = 499;
    buckets.take('late');
    expect(buckets.size).toBe(1001);
    clock.t = 500;
    buckets.take('later');
    expect(buckets.size).toBe(2); // 'late' (idle 1 ms) and 'later'
  });

  it('never holds more than its cap, dropping the least recently used', () => {
    const clock = { t: 0 };
    const buckets = new TokenBuckets({ requestsPerSecond: 1, burst: 1 }, () => clock.t, 3);
    for (const client of ['a', 'b', 'c']) expect(buckets.take(client)).toBe(0);
    expect(buckets.take('a')).toBe(1); // 'a' is now the most recently used
    expect(buckets.take('d')).toBe(0); // evicts 'b'
    expect(buckets.size).toBe(3);
    expect(buckets.take('a')).toBe(1); // kept: still empty
    expect(buckets.take('b')).toBe(0); // forgotten: full again
    for (let i = 0; i < 100; i++) buckets.take(`flood-${i}`);
    expect(buckets.size).toBe(3);
  });

  it('does not drain when the clock steps back', () => {
    const clock = { t: 10_000 };
    const buckets = new TokenBuckets({ requestsPerSecond: 1, burst: 2 }, () => clock.t);
    expect(buckets.take('a')).toBe(0);
    clock.t = 0;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
  });
});

describe('client identity', () => {
  const open: Listening[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  function whoAmI() {
    const identify = clientIdentity([KEY, undefined]);
    return new Hono().get('/', (c) => c.text(identify(c)));
  }

  it('is the socket address under node-server, a constant under app.request, and a key digest never the key', async () => {
    const server = await listen(whoAmI(), { port: 0, host: '127.0.0.1' });
    open.push(server);
    const url = `http://127.0.0.1:${server.port}/`;
    expect(await (await fetch(url)).text()).toBe('ip:127.0.0.1');
    expect(await (await fetch(url, { headers: { authorization: 'Bearer nope' } })).text()).toBe('ip:127.0.0.1');
    const keyed = await (await fetch(url, { headers: { authorization: `Bearer ${KEY}` } })).text();
    expect(keyed).toMatch(/^key:[0-9a-f]{64}$/);
    expect(keyed).not.toContain(KEY);
    expect(await (await whoAmI().request('/')).text()).toBe('ip:unknown');
  });
});
