import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { invalid, NOW, setup } from './helpers.ts';

const DAY = 86_400_000;
const event = { userId: 'u1', itemId: 'i1', type: 'click' };
const TYPE_RULE = 'must be one of view, click, cart, purchase, like, dislike, rating';

describe('POST /v1/feedback?partial=true (fake engine)', () => {
  it('imports the valid rows in one call and lists the others with index, field and message', async () => {
    const { engine, call } = setup();
    const rows = [
      event,
      { ...event, type: 'stare' },
      { ...event, userId: 'u2', timestamp: '2024-06-14T10:30:00Z' },
      'click',
      { ...event, timestamp: NOW + 2 * DAY },
      { ...event, userId: 'bad\u0000id' },
      { ...event, type: 'rating', value: 4.5 },
    ];
    const res = await call('POST', '/v1/feedback?partial=true', { json: rows });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      accepted: 2, // the fake reports one of the three as a duplicate
      duplicates: 1,
      rejected: [
        { index: 1, field: '[1].type', message: `[1].type ${TYPE_RULE}` },
        { index: 3, field: '[3]', message: '[3] must be a JSON object' },
        { index: 4, field: '[4].timestamp', message: '[4].timestamp must not be more than 1 day in the future' },
        {
          index: 5,
          field: '[5].userId',
          message: '[5].userId must contain only printable characters: no control characters, line separators or unpaired surrogates',
        },
      ],
    });
    expect(engine.calls).toStrictEqual([
      {
        method: 'importFeedback',
        args: [
          [
            { userId: 'u1', itemId: 'i1', type: 'click', value: null, timestamp: NOW },
            { userId: 'u2', itemId: 'i1', type: 'click', value: null, timestamp: Date.UTC(2024, 5, 14, 10, 30) },
            { userId: 'u1', itemId: 'i1', type: 'rating', value: 4.5, timestamp: NOW },
          ],
        ],
      },
    ]);
  });

  it('stores nothing and does not call the engine when every row is bad', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback?partial=true', { json: [{}, { ...event, type: 'rating' }] });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      accepted: 0,
      duplicates: 0,
      rejected: [
        { index: 0, field: '[0].userId', message: '[0].userId is required' },
        { index: 1, field: '[1].value', message: '[1].value must be a number from 0.5 to 5 when type is rating' },
      ],
    });
    expect(engine.calls).toStrictEqual([]);
  });

  it('answers an all-valid batch with an empty rejected list', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/feedback?partial=true', { json: [event, event] })).body).toStrictEqual({
      accepted: 1,
      duplicates: 1,
      rejected: [],
    });
  });

  it('still checks the batch itself: empty or over 10,000 rows is a 400', async () => {
    const { engine, call } = setup();
    const rule = invalid('body', 'body must be an array of 1–10000 entries');
    expect((await call('POST', '/v1/feedback?partial=true', { json: [] })).body).toStrictEqual(rule);
    expect((await call('POST', '/v1/feedback?partial=true', { json: Array(10_001).fill(event) })).body).toStrictEqual(rule);
    expect(engine.calls).toStrictEqual([]);
  });

  it('is strict without partial, and with partial=false', async () => {
    const { engine, call } = setup();
    for (const path of ['/v1/feedback', '/v1/feedback?partial=false']) {
      const res = await call('POST', path, { json: [event, { ...event, type: 'stare' }] });
      expect(res.status).toBe(400);
      expect(res.body).toStrictEqual(invalid('[1].type', `[1].type ${TYPE_RULE}`));
    }
    expect(engine.calls).toStrictEqual([]);
  });

  it('rejects a partial value other than true or false', async () => {
    const { engine, call } = setup();
    for (const value of ['yes', '1', 'TRUE', '']) {
      const res = await call('POST', `/v1/feedback?partial=${value}`, { json: [event] });
      expect(res.body).toStrictEqual(invalid('partial', 'partial must be one of true, false'));
    }
    expect(engine.calls).toStrictEqual([]);
  });

  it('leaves a single event on the live path', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback?partial=true&n=2', { json: event });
    expect(res.status).toBe(200);
    expect(res.body.recommendations).toHaveLength(2);
    expect(engine.calls.map((c) => c.method)).toStrictEqual(['addFeedback']);
  });
});

describe('POST /v1/feedback?partial=true (real engine)', () => {
  let store: SqliteStore;
  let engine: Engine;
  beforeEach(async () => {
    store = SqliteStore.open(':memory:');
    engine = await Engine.open(store, { retrainEvery: 0, retrainMinutes: 0 });
  });
  afterEach(async () => {
    await engine.close();
    await store.close();
  });

  it('stores exactly the valid rows, counting duplicates', async () => {
    const app = createApp(engine, { now: () => NOW });
    const post = async (rows: unknown[]) => {
      const res = await app.request('/v1/feedback?partial=true', { method: 'POST', body: JSON.stringify(rows) });
      return { status: res.status, body: await res.json() };
    };
    const first = await post([
      { ...event, timestamp: NOW - 1000 },
      { ...event, type: 'wink' },
      { ...event, userId: 'u2', timestamp: NOW - 1000 },
      { ...event, userId: 'u2', timestamp: NOW - 1000 }, // duplicate of the row before
    ]);
    expect(first).toStrictEqual({
      status: 200,
      body: { accepted: 2, duplicates: 1, rejected: [{ index: 1, field: '[1].type', message: `[1].type ${TYPE_RULE}` }] },
    });
    expect((await store.countFeedback())).toBe(2);
    expect(await store.userFeedback('u2')).toHaveLength(1);

    const second = await post([{ ...event, timestamp: NOW - 1000 }, { userId: 'u3' }]);
    expect(second.body).toStrictEqual({
      accepted: 0,
      duplicates: 1,
      rejected: [{ index: 1, field: '[1].itemId', message: '[1].itemId is required' }],
    });
    expect((await store.countFeedback())).toBe(2);
  });
});
