/**
 * Disk full and database locked, end to end over the real engine and a real file: the client
 * gets 503 `unavailable` with a message free of SQL, nothing is half-written, reads keep working,
 * and the same request succeeds once the condition clears.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';

const BUSY_TIMEOUT_MS = 250;
const SEEDED = shopFeedback().length;

let dir: string;
let path: string;
let store: SqliteStore;
let engine: Engine;
let app: ReturnType<typeof createApp>;
let other: Database.Database | null = null;

async function call(method: string, url: string, json?: unknown) {
  const started = performance.now();
  const res = await app.request(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
}

/** The store's own connection, to set SQLite limits on it. */
const connection = () => (store as unknown as { db: Database.Database }).db;

const unavailable = (reason: RegExp) => ({ error: { code: 'unavailable', field: null, message: expect.stringMatching(reason) } });

const NO_SQL = /INSERT|SELECT|UPDATE|feedback|users|SQLITE|constraint/i;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'liverec-unavailable-'));
  path = join(dir, 'liverec.db');
  store = SqliteStore.open(path, { busyTimeoutMs: BUSY_TIMEOUT_MS });
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0, floodEventsPerSecond: 0 });
  app = createApp(engine);
  expect((await call('POST', '/v1/items', SHOP_ITEMS)).status).toBe(200);
  expect((await call('POST', '/v1/feedback', shopFeedback())).body).toEqual({ accepted: SEEDED, duplicates: 0 });
  await engine.trainNow();
});

afterEach(async () => {
  other?.close();
  other = null;
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('database locked by another connection', () => {
  it('answers 503 within the busy timeout, keeps serving reads, and stores exactly what it acknowledged', async () => {
    const event = { userId: 'locked-out', itemId: 'h3', type: 'purchase', timestamp: Date.now() };
    other = new Database(path);
    other.exec('BEGIN IMMEDIATE');

    const refused = await call('POST', '/v1/feedback', event);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(unavailable(/^storage is busy: .*retry/));
    expect(refused.body.error.message).not.toMatch(NO_SQL);
    // It waited for the lock (the busy timeout), and not much longer.
    expect(refused.ms).toBeGreaterThanOrEqual(BUSY_TIMEOUT_MS - 20);
    expect(refused.ms).toBeLessThan(BUSY_TIMEOUT_MS + 1_500);

    // A batch import is refused the same way; reads are not blocked by a writer under WAL.
    const batch = Array.from({ length: 5 }, (_, i) => ({ userId: `batch-${i}`, itemId: 'a1', type: 'view', timestamp: Date.now() }));
    expect((await call('POST', '/v1/feedback', batch)).status).toBe(503);
    expect((await call('GET', '/v1/users/hu1/recommendations?n=3')).status).toBe(200);
    expect((await call('GET', '/health')).status).toBe(200);

    other.exec('ROLLBACK');
    const accepted = await call('POST', '/v1/feedback', event);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await call('POST', '/v1/feedback', batch)).body).toEqual({ accepted: 5, duplicates: 0 });

    // Exactly the acknowledged rows: the refused attempts left nothing behind, not even a user row.
    expect((await store.countFeedback())).toBe(SEEDED + 1 + 5);
    expect((await store.getUser('locked-out'))?.interactions).toBe(1);
    expect((await call('GET', '/v1/users/locked-out/export')).body.feedback).toHaveLength(1);
  });
});

describe('database full', () => {
  it('refuses a batch import with 503 and stores none of it, keeps earlier rows and reads, then recovers', async () => {
    const db = connection();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const now = Date.now();
    const batch = Array.from({ length: 2_000 }, (_, i) => ({
      userId: `full-${i}-${'u'.repeat(120)}`,
      itemId: `new-item-${i}-${'i'.repeat(60)}`,
      type: 'click',
      timestamp: now - i,
    }));

    const refused = await call('POST', '/v1/feedback', batch);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(unavailable(/^storage is full: the write was rolled back/));
    expect(refused.body.error.message).not.toMatch(NO_SQL);
    const partial = await call('POST', '/v1/feedback?partial=true', batch);
    expect(partial.status).toBe(503);
    const items = Array.from({ length: 2_000 }, (_, i) => ({ itemId: `bulk-${i}`, title: 't'.repeat(200) }));
    expect((await call('POST', '/v1/items', items)).status).toBe(503);

    // All or nothing: no event, no user, no item created on the fly; the seeded rows are intact.
    expect((await store.countFeedback())).toBe(SEEDED);
    expect(await store.getUser(batch[0].userId)).toBeNull();
    expect(await store.getItem(batch[0].itemId)).toBeNull();
    expect(await store.getItem('bulk-0')).toBeNull();
    expect(await store.userFeedback('hu1')).toHaveLength(9);
    expect((await call('GET', `/v1/items/${batch[0].itemId}`)).status).toBe(404);
    expect((await call('GET', '/v1/items/bulk-0')).status).toBe(404);

    // Reads keep answering.
    const recs = await call('GET', '/v1/users/hu1/recommendations?n=3');
    expect(recs.status).toBe(200);
    expect(recs.body.recommendations).toHaveLength(3);
    expect((await call('GET', '/v1/popular?n=3')).status).toBe(200);
    expect((await call('GET', '/health')).body).toMatchObject({ status: 'ok', feedback: SEEDED });

    // Space freed: the same batch goes in whole.
    db.pragma('max_page_count = 1073741823');
    expect((await call('POST', '/v1/feedback', batch)).body).toEqual({ accepted: 2_000, duplicates: 0 });
    expect((await store.countFeedback())).toBe(SEEDED + 2_000);
  });
});
