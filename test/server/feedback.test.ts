import { describe, expect, it } from 'vitest';
import { ID_257, invalid, NOW, setup } from './helpers.ts';
import { recs } from './fake-engine.ts';

const DAY = 86_400_000;
const event = { userId: 'u1', itemId: 'i1', type: 'click' };

describe('POST /v1/feedback (single event)', () => {
  it('stores the event with defaults and answers with recommendations', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback', { json: event });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ accepted: 1, duplicates: 0, userId: 'u1', modelVersion: 3, recommendations: recs(10) });
    expect(engine.calls).toStrictEqual([
      { method: 'addFeedback', args: [{ userId: 'u1', itemId: 'i1', type: 'click', value: null, timestamp: NOW }, 10] },
    ]);
  });

  it('passes n, value and an epoch-ms timestamp through', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback?n=3', { json: { ...event, type: 'purchase', value: 2, timestamp: 1_700_000_000_000 } });
    expect(res.body.recommendations).toStrictEqual(recs(3));
    expect(engine.calls[0].args).toStrictEqual([
      { userId: 'u1', itemId: 'i1', type: 'purchase', value: 2, timestamp: 1_700_000_000_000 },
      3,
    ]);
  });

  it.each([
    ['2024-06-14T10:30:00Z', Date.UTC(2024, 5, 14, 10, 30)],
    ['2024-06-14T10:30:00.250Z', Date.UTC(2024, 5, 14, 10, 30, 0, 250)],
    ['2024-06-14T12:30:00+02:00', Date.UTC(2024, 5, 14, 10, 30)],
    ['1970-01-01T00:00:00Z', 0],
  ])('converts the ISO timestamp %s to epoch ms', async (timestamp, ms) => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/feedback', { json: { ...event, timestamp } })).status).toBe(200);
    expect((engine.calls[0].args[0] as { timestamp: number }).timestamp).toBe(ms);
  });

  it('accepts ratings at the bounds 0.5 and 5, and null values for other types', async () => {
    const { engine, call } = setup();
    await call('POST', '/v1/feedback', { json: { ...event, type: 'rating', value: 0.5 } });
    await call('POST', '/v1/feedback', { json: { ...event, type: 'rating', value: 5 } });
    await call('POST', '/v1/feedback', { json: { ...event, type: 'like', value: null } });
    expect(engine.calls.map((c) => (c.args[0] as { value: unknown }).value)).toStrictEqual([0.5, 5, null]);
  });

  it('accepts a timestamp exactly 1 day ahead', async () => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/feedback', { json: { ...event, timestamp: NOW + DAY } })).status).toBe(200);
    expect(engine.calls).toHaveLength(1);
  });

  const TS_RULE = 'timestamp must be integer epoch milliseconds or an ISO-8601 date-time with a timezone';
  it.each([
    [{ ...event, type: 'wishlist' }, 'type', 'type must be one of view, click, cart, purchase, like, dislike, rating'],
    [{ ...event, type: undefined }, 'type', 'type is required'],
    [{ ...event, userId: undefined }, 'userId', 'userId is required'],
    [{ ...event, userId: '' }, 'userId', 'userId must be 1–256 characters'],
    [{ ...event, itemId: ID_257 }, 'itemId', 'itemId must be 1–256 characters'],
    [{ ...event, type: 'rating' }, 'value', 'value must be a number from 0.5 to 5 when type is rating'],
    [{ ...event, type: 'rating', value: 0.4 }, 'value', 'value must be a number from 0.5 to 5 when type is rating'],
    [{ ...event, type: 'rating', value: 5.5 }, 'value', 'value must be a number from 0.5 to 5 when type is rating'],
    [{ ...event, value: '3' }, 'value', 'value must be a number'],
    [{ ...event, timestamp: NOW + DAY + 1 }, 'timestamp', 'timestamp must not be more than 1 day in the future'],
    [{ ...event, timestamp: '2024-06-16T12:00:00.001Z' }, 'timestamp', 'timestamp must not be more than 1 day in the future'],
    [{ ...event, timestamp: -1 }, 'timestamp', 'timestamp must not be before 1970-01-01T00:00:00Z'],
    [{ ...event, timestamp: '1969-12-31T23:59:59Z' }, 'timestamp', 'timestamp must not be before 1970-01-01T00:00:00Z'],
    [{ ...event, timestamp: 1.5 }, 'timestamp', TS_RULE],
    [{ ...event, timestamp: '2024-06-14T10:30:00' }, 'timestamp', TS_RULE],
    [{ ...event, timestamp: 'yesterday' }, 'timestamp', TS_RULE],
    [{ ...event, timestamp: null }, 'timestamp', TS_RULE],
    ['click', 'body', 'body must be a JSON object'],
  ])('rejects %j', async (json, field, message) => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback', { json });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid(field, message));
    expect(engine.calls).toStrictEqual([]);
  });

  it('rejects a bad n before touching the engine', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback?n=101', { json: event });
    expect(res.body).toStrictEqual(invalid('n', 'n must be an integer from 1 to 100'));
    expect(engine.calls).toStrictEqual([]);
  });
});

describe('POST /v1/feedback (array import)', () => {
  it('validates and resolves every event, then imports them in one call', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback', {
      json: [event, { userId: 'u2', itemId: 'i2', type: 'rating', value: 4.5, timestamp: '2024-01-01T00:00:00Z' }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ accepted: 1, duplicates: 1 });
    expect(engine.calls).toStrictEqual([
      {
        method: 'importFeedback',
        args: [
          [
            { userId: 'u1', itemId: 'i1', type: 'click', value: null, timestamp: NOW },
            { userId: 'u2', itemId: 'i2', type: 'rating', value: 4.5, timestamp: Date.UTC(2024, 0, 1) },
          ],
        ],
      },
    ]);
  });

  it('rejects the whole batch when one row is bad, naming the row', async () => {
    const { engine, call } = setup();
    const rows: Array<Record<string, unknown>> = Array.from({ length: 30 }, () => ({ ...event }));
    rows[17] = { ...event, type: 'stare' };
    const res = await call('POST', '/v1/feedback', { json: rows });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(
      invalid('[17].type', '[17].type must be one of view, click, cart, purchase, like, dislike, rating'),
    );
    rows[17] = { ...event, timestamp: NOW + 2 * DAY };
    expect((await call('POST', '/v1/feedback', { json: rows })).body.error.field).toBe('[17].timestamp');
    expect(engine.calls).toStrictEqual([]);
  });

  it('rejects an empty array and more than 10,000 events', async () => {
    const { engine, call } = setup();
    const rule = invalid('body', 'body must be an array of 1–10000 entries');
    expect((await call('POST', '/v1/feedback', { json: [] })).body).toStrictEqual(rule);
    expect((await call('POST', '/v1/feedback', { json: Array(10_001).fill(event) })).body).toStrictEqual(rule);
    expect((await call('POST', '/v1/feedback', { json: Array(10_000).fill(event) })).status).toBe(200);
    expect(engine.calls.map((c) => c.method)).toStrictEqual(['importFeedback']);
  });
});
