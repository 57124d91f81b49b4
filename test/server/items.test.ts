import { describe, expect, it } from 'vitest';
import { ID_257, invalid, setup } from './helpers.ts';

const CREATED_ISO = '2024-01-02T03:04:05.678Z';
const UPDATED_ISO = '2024-06-06T07:08:09.010Z';

describe('POST /v1/items', () => {
  it('upserts the batch, passing only known fields, omitted ones absent', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/items', {
      json: [
        { itemId: 'a', title: 'Shoe', categories: ['shoes', 'sale'], metadata: { price: 12.5 }, available: true, junk: 1 },
        { itemId: 'b' },
        { itemId: 'c', title: null },
      ],
    });
    expect(res).toMatchObject({ status: 200, body: { upserted: 3 } });
    expect(res.body).toStrictEqual({ upserted: 3 });
    expect(engine.calls).toStrictEqual([
      {
        method: 'upsertItems',
        args: [
          [
            { itemId: 'a', title: 'Shoe', categories: ['shoes', 'sale'], metadata: { price: 12.5 }, available: true },
            { itemId: 'b' },
            { itemId: 'c', title: null },
          ],
        ],
      },
    ]);
  });

  it.each([
    [{ itemId: 'a' }, 'body', 'body must be an array of 1–10000 entries'],
    [[], 'body', 'body must be an array of 1–10000 entries'],
    [[{ itemId: 'a' }, { itemId: '' }], '[1].itemId', '[1].itemId must be 1–256 characters'],
    [[{ itemId: ID_257 }], '[0].itemId', '[0].itemId must be 1–256 characters'],
    [[{ title: 'x' }], '[0].itemId', '[0].itemId is required'],
    [[{ itemId: 7 }], '[0].itemId', '[0].itemId must be a string'],
    [[{ itemId: 'a', categories: 'shoes' }], '[0].categories', '[0].categories must be an array'],
    [[{ itemId: 'a', categories: ['ok', ''] }], '[0].categories[1]', '[0].categories[1] must be 1–256 characters'],
    [[{ itemId: 'a', metadata: [1] }], '[0].metadata', '[0].metadata must be a JSON object'],
    [[{ itemId: 'a', available: 'yes' }], '[0].available', '[0].available must be true or false'],
    [[{ itemId: 'a', title: 5 }], '[0].title', '[0].title must be a string'],
  ])('rejects %j with field %s', async (json, field, message) => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/items', { json });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid(field, message));
    expect(engine.calls).toStrictEqual([]);
  });

  it('accepts 10,000 items and rejects 10,001', async () => {
    const { engine, call } = setup();
    const items = Array.from({ length: 10_000 }, (_, i) => ({ itemId: `i${i}` }));
    expect((await call('POST', '/v1/items', { json: items })).body).toStrictEqual({ upserted: 10_000 });
    const res = await call('POST', '/v1/items', { json: [...items, { itemId: 'one-more' }] });
    expect(res.body).toStrictEqual(invalid('body', 'body must be an array of 1–10000 entries'));
    expect(engine.calls).toHaveLength(1);
  });
});

describe('PUT /v1/items/:itemId', () => {
  it('upserts under the path id and answers with the stored item, times as ISO', async () => {
    const { engine, call } = setup();
    const res = await call('PUT', '/v1/items/sku-1', { json: { title: 'Hat', categories: ['hats'] } });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      itemId: 'sku-1',
      title: 'Hat',
      categories: ['hats'],
      metadata: {},
      available: true,
      createdAt: CREATED_ISO,
      updatedAt: CREATED_ISO,
    });
    expect(engine.calls).toStrictEqual([
      { method: 'upsertItems', args: [[{ title: 'Hat', categories: ['hats'], itemId: 'sku-1' }]] },
      { method: 'getItem', args: ['sku-1'] },
    ]);
  });

  it('accepts a body itemId equal to the path one, rejects a different one', async () => {
    const { engine, call } = setup();
    expect((await call('PUT', '/v1/items/a', { json: { itemId: 'a', available: false } })).body.available).toBe(false);
    const res = await call('PUT', '/v1/items/a', { json: { itemId: 'b' } });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid('itemId', 'itemId in the body must match the itemId in the path'));
    expect(engine.calls.map((c) => c.method)).toStrictEqual(['upsertItems', 'getItem']);
  });

  it('rejects an oversized path id and a non-object body', async () => {
    const { engine, call } = setup();
    expect((await call('PUT', `/v1/items/${ID_257}`, { json: {} })).body).toStrictEqual(
      invalid('itemId', 'itemId must be 1–256 characters'),
    );
    expect((await call('PUT', '/v1/items/a', { json: [] })).body).toStrictEqual(invalid('body', 'body must be a JSON object'));
    expect(engine.calls).toStrictEqual([]);
  });
});

describe('GET /v1/items/:itemId', () => {
  it('returns the item record field by field', async () => {
    const { engine, call } = setup();
    await call('POST', '/v1/items', { json: [{ itemId: 'a', title: 'A', metadata: { k: [1, 'v'] } }] });
    await call('POST', '/v1/items', { json: [{ itemId: 'a', available: false }] });
    const res = await call('GET', '/v1/items/a');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      itemId: 'a',
      title: 'A',
      categories: [],
      metadata: { k: [1, 'v'] },
      available: false,
      createdAt: CREATED_ISO,
      updatedAt: UPDATED_ISO,
    });
    expect(engine.calls.at(-1)).toStrictEqual({ method: 'getItem', args: ['a'] });
  });

  it('decodes percent-encoded ids', async () => {
    const { engine, call } = setup();
    await call('GET', '/v1/items/sku%201%2Fred');
    expect(engine.calls).toStrictEqual([{ method: 'getItem', args: ['sku 1/red'] }]);
  });

  it('answers 404 for an unknown item', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/items/nope');
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual({ error: { code: 'not_found', message: "itemId 'nope' does not exist", field: 'itemId' } });
  });
});

describe('DELETE /v1/items/:itemId', () => {
  it('marks the item unavailable', async () => {
    const { engine, call } = setup();
    await call('POST', '/v1/items', { json: [{ itemId: 'a' }] });
    const res = await call('DELETE', '/v1/items/a');
    expect(res).toMatchObject({ status: 200 });
    expect(res.body).toStrictEqual({ itemId: 'a', available: false });
    expect(engine.calls.at(-1)).toStrictEqual({ method: 'deleteItem', args: ['a'] });
  });

  it('answers 404 for an unknown item', async () => {
    const { call } = setup();
    const res = await call('DELETE', '/v1/items/zzz');
    expect(res.status).toBe(404);
    expect(res.body.error).toStrictEqual({ code: 'not_found', message: "itemId 'zzz' does not exist", field: 'itemId' });
  });
});

describe('GET /v1/items/:itemId/similar', () => {
  it('passes n (default 10) and wraps the result', async () => {
    const { engine, call } = setup();
    await call('POST', '/v1/items', { json: [{ itemId: 'a' }] });
    const res = await call('GET', '/v1/items/a/similar?n=2');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ itemId: 'a', similar: [{ itemId: 'rec-1', score: 2 }, { itemId: 'rec-2', score: 1 }] });
    await call('GET', '/v1/items/a/similar?unknown=1');
    expect(engine.calls.slice(1)).toStrictEqual([
      { method: 'similarItems', args: ['a', 2] },
      { method: 'similarItems', args: ['a', 10] },
    ]);
  });

  it.each(['0', '101', '1.5', 'ten', '', '-1', '1e1'])('rejects n=%j', async (n) => {
    const { engine, call } = setup();
    const res = await call('GET', `/v1/items/a/similar?n=${n}`);
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid('n', 'n must be an integer from 1 to 100'));
    expect(engine.calls).toStrictEqual([]);
  });

  it('accepts the bounds n=1 and n=100', async () => {
    const { engine, call } = setup();
    await call('POST', '/v1/items', { json: [{ itemId: 'a' }] });
    expect((await call('GET', '/v1/items/a/similar?n=1')).status).toBe(200);
    expect((await call('GET', '/v1/items/a/similar?n=100')).body.similar).toHaveLength(100);
    expect(engine.calls.slice(1).map((c) => c.args[1])).toStrictEqual([1, 100]);
  });

  it('answers 404 for an unknown item', async () => {
    const { call } = setup();
    const res = await call('GET', '/v1/items/ghost/similar');
    expect(res.status).toBe(404);
    expect(res.body.error.field).toBe('itemId');
  });
});
