import { describe, expect, it } from 'vitest';
import { profileOf, recs } from './fake-engine.ts';
import { ID_257, invalid, setup } from './helpers.ts';

describe('GET /v1/users/:userId/recommendations', () => {
  it('defaults to n=10 with no filters, and answers field by field', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/v1/users/someone/recommendations');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ userId: 'someone', modelVersion: null, recommendations: recs(10) });
    expect(engine.calls).toStrictEqual([{ method: 'recommend', args: ['someone', { n: 10 }] }]);
  });

  it('passes n, comma-separated categories and exclusions, ignoring unknown params', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/v1/users/u1/recommendations?n=2&category=a,b&exclude=x,%20y&debug=1');
    expect(res.body.recommendations).toStrictEqual(recs(2));
    expect(engine.calls).toStrictEqual([
      { method: 'recommend', args: ['u1', { n: 2, categories: ['a', 'b'], exclude: ['x', 'y'] }] },
    ]);
  });

  it('merges repeated parameters and treats empty ones as absent', async () => {
    const { engine, call } = setup();
    await call('GET', '/v1/users/u1/recommendations?category=a&category=b,c&exclude=&category=,');
    expect(engine.calls[0].args).toStrictEqual(['u1', { n: 10, categories: ['a', 'b', 'c'] }]);
  });

  it('rejects a bad n, an oversized exclusion and an oversized user id', async () => {
    const { engine, call } = setup();
    expect((await call('GET', '/v1/users/u1/recommendations?n=0')).body).toStrictEqual(
      invalid('n', 'n must be an integer from 1 to 100'),
    );
    expect((await call('GET', `/v1/users/u1/recommendations?exclude=ok,${ID_257}`)).body).toStrictEqual(
      invalid('exclude[1]', 'exclude[1] must be 1–256 characters'),
    );
    const res = await call('GET', `/v1/users/${ID_257}/recommendations`);
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid('userId', 'userId must be 1–256 characters'));
    expect(engine.calls).toStrictEqual([]);
  });
});

describe('GET /v1/users/:userId/similar', () => {
  it('passes n and wraps the result', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/v1/users/u1/similar?n=2');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ userId: 'u1', similar: [{ userId: 'sim-1', score: 2 }, { userId: 'sim-2', score: 1 }] });
    expect(engine.calls).toStrictEqual([{ method: 'similarUsers', args: ['u1', 2] }]);
  });

  it('answers 404 with field userId for an unknown user', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/users/ghost/similar');
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual({ error: { code: 'not_found', message: "userId 'ghost' does not exist", field: 'userId' } });
  });

  it('rejects a bad n', async () => {
    const { call } = setup();
    expect((await call('GET', '/v1/users/u1/similar?n=abc')).body).toStrictEqual(invalid('n', 'n must be an integer from 1 to 100'));
  });
});

describe('GET /v1/users/:userId/profile', () => {
  it('returns the engine profile as is', async () => {
    const { engine, call } = setup();
    const res = await call('GET', '/v1/users/u1/profile');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(profileOf('u1'));
    expect(engine.calls).toStrictEqual([{ method: 'profile', args: ['u1'] }]);
  });

  it('answers 404 for an unknown user', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/users/nobody/profile');
    expect(res.status).toBe(404);
    expect(res.body.error).toStrictEqual({ code: 'not_found', message: "userId 'nobody' does not exist", field: 'userId' });
  });
});

describe('DELETE /v1/users/:userId', () => {
  it('erases the user and reports the rows removed', async () => {
    const { engine, call } = setup();
    const res = await call('DELETE', '/v1/users/u1');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ userId: 'u1', deleted: 7 });
    expect(engine.calls).toStrictEqual([{ method: 'deleteUser', args: ['u1'] }]);
    expect((await call('DELETE', '/v1/users/u1')).status).toBe(404);
  });
});
