import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorruptModelError, IncompatibleSchemaError, NotFoundError, StoreUnavailableError, translateSqliteError,
} from '../../src/store/errors.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { FeedbackInput, FeedbackType } from '../../src/store/types.ts';

let dir: string;
const open: Array<{ close(): unknown }> = [];

function track<T extends { close(): unknown }>(handle: T): T {
  open.push(handle);
  return handle;
}
const memory = () => track(SqliteStore.open(':memory:'));
const dbPath = () => path.join(dir, 'liverec.db');
const ev = (userId: string, itemId: string, timestamp: number, type: FeedbackInput['type'] = 'click'): FeedbackInput =>
  ({ userId, itemId, type, value: null, timestamp });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liverec-store-'));
});
afterEach(() => {
  for (const handle of open.splice(0)) handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('items', () => {
  it('round-trips every field, applies partial updates and availability', async () => {
    const store = memory();
    expect(await store.upsertItems([{ itemId: 'a', title: 'Alpha', categories: ['x', 'y'], metadata: { price: 3 }, available: false }], 1000)).toBe(1);
    expect(await store.getItem('a')).toEqual({
      itemId: 'a', title: 'Alpha', categories: ['x', 'y'], metadata: { price: 3 }, available: false, createdAt: 1000, updatedAt: 1000,
    });

    await store.upsertItems([{ itemId: 'a', title: 'Alpha 2' }], 2000);
    expect(await store.getItem('a')).toEqual({
      itemId: 'a', title: 'Alpha 2', categories: ['x', 'y'], metadata: { price: 3 }, available: false, createdAt: 1000, updatedAt: 2000,
    });
    await store.upsertItems([{ itemId: 'a', metadata: { price: 4 } }], 2500);
    expect(await store.getItem('a')).toMatchObject({ title: 'Alpha 2', categories: ['x', 'y'], metadata: { price: 4 }, available: false });
    await store.upsertItems([{ itemId: 'a', title: null, categories: [], available: true }], 3000);
    const a = (await store.getItem('a'))!;
    expect([a.title, a.categories, a.metadata, a.available, a.updatedAt]).toEqual([null, [], { price: 4 }, true, 3000]);

    expect(await store.setItemAvailable('a', false, 4000)).toBe(true);
    expect((await store.getItem('a'))!.available).toBe(false);
    expect((await store.getItem('a'))!.updatedAt).toBe(4000);
    expect(await store.setItemAvailable('nope', false)).toBe(false);
    expect(await store.getItem('nope')).toBeNull();
  });

  it('gives new items defaults and lists them in insertion order', async () => {
    const store = memory();
    await store.upsertItems([{ itemId: 'z' }, { itemId: 'b' }], 5);
    await store.upsertItems([{ itemId: 'a' }, { itemId: 'z', title: 'later' }], 6);
    expect(await store.getItem('b')).toEqual({ itemId: 'b', title: null, categories: [], metadata: {}, available: true, createdAt: 5, updatedAt: 5 });
    expect((await store.listItems()).map((i) => i.itemId)).toEqual(['z', 'b', 'a']);
  });
});

describe('addFeedback', () => {
  it('creates users and bare items, and stores every field', async () => {
    const store = memory();
    await store.upsertItems([{ itemId: 'known', title: 'K' }]);
    const result = await store.addFeedback(
      [{ userId: 'u1', itemId: 'new', type: 'rating', value: 4.5, timestamp: 500 }, ev('u1', 'new', 300), ev('u1', 'known', 400)],
      { createMissingItems: true, receivedAt: 9000 },
    );
    expect(result).toEqual({ accepted: 3, duplicates: 0, stored: [true, true, true], createdItems: ['new'] });
    expect(await store.getItem('new')).toEqual({ itemId: 'new', title: null, categories: [], metadata: {}, available: true, createdAt: 9000, updatedAt: 9000 });
    expect(await store.getUser('u1')).toEqual({ userId: 'u1', firstSeen: 300, lastSeen: 500, interactions: 3, flag: null });
    const rows = await store.userFeedback('u1');
    expect(rows.map((r) => r.timestamp)).toEqual([300, 400, 500]);
    expect(rows[2]).toEqual({ id: 1, userId: 'u1', itemId: 'new', type: 'rating', value: 4.5, timestamp: 500, receivedAt: 9000 });
  });

  it('stores an exact duplicate once and counts it', async () => {
    const store = memory();
    const opts = { createMissingItems: true };
    expect(await store.addFeedback([ev('u', 'i', 1)], opts)).toEqual({ accepted: 1, duplicates: 0, stored: [true], createdItems: ['i'] });
    expect(await store.addFeedback([ev('u', 'i', 1)], opts)).toEqual({ accepted: 0, duplicates: 1, stored: [false], createdItems: [] });
    expect(await store.addFeedback([ev('u', 'i', 2), ev('u', 'i', 2), ev('u', 'i', 2, 'like')], opts))
      .toEqual({ accepted: 2, duplicates: 1, stored: [true, false, true], createdItems: [] });
    expect(await store.countFeedback()).toBe(3);
    expect((await store.getUser('u'))!.interactions).toBe(3);
  });

  it('rejects an unknown item without createMissingItems and stores nothing', async () => {
    const store = memory();
    await store.upsertItems([{ itemId: 'known' }]);
    await store.addFeedback([ev('u0', 'known', 1)], { createMissingItems: false });
    const batch = [ev('u1', 'known', 2), ev('u1', 'ghost', 3)];
    const err = await store.addFeedback(batch, { createMissingItems: false }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).field).toBe('itemId');
    expect((err as NotFoundError).id).toBe('ghost');
    expect(await store.countFeedback()).toBe(1);
    expect(await store.getUser('u1')).toBeNull();
    expect(await store.getItem('ghost')).toBeNull();
  });

  it('rolls back the whole batch when one row violates the schema', async () => {
    const store = memory();
    const bad = { ...ev('u1', 'made-here', 2), type: 'shrug' as FeedbackInput['type'] };
    await expect(store.addFeedback([ev('u1', 'made-here', 1), bad], { createMissingItems: true })).rejects.toThrow(/CHECK/);
    expect(await store.countFeedback()).toBe(0);
    expect(await store.getUser('u1')).toBeNull();
    expect(await store.getItem('made-here')).toBeNull();
  });
});

describe('feedback queries', () => {
  it('pages by id, lists changed users and reports the max id', async () => {
    const store = memory();
    expect(await store.maxFeedbackId()).toBe(0);
    expect(await store.feedbackSince(0)).toEqual([]);
    await store.addFeedback([ev('a', 'i', 1), ev('b', 'i', 1), ev('b', 'j', 1), ev('c', 'j', 1)], { createMissingItems: true });
    expect(await store.maxFeedbackId()).toBe(4);
    expect((await store.feedbackSince(1)).map((r) => [r.id, r.userId, r.itemId])).toEqual([[2, 'b', 'i'], [3, 'b', 'j'], [4, 'c', 'j']]);
    expect((await store.feedbackSince(1, 2)).map((r) => r.id)).toEqual([2, 3]);
    expect(await store.usersWithFeedbackAfter(1)).toEqual(['b', 'c']);
    expect(await store.usersWithFeedbackAfter(4)).toEqual([]);
    const streamed: number[] = [];
    await store.forEachFeedback((row) => streamed.push(row.id));
    expect(streamed).toEqual([1, 2, 3, 4]);
  });

  it('sums decayed popularity per item in the database, counting only the types and rating signs asked for', async () => {
    const store = memory();
    const H = 1000;
    const at = (userId: string, itemId: string, type: FeedbackType, ts: number, value: number | null = null) => ({ userId, itemId, type, value, timestamp: ts });
    await store.addFeedback(
      [
        at('a', 'i', 'click', 3000), at('b', 'i', 'click', 1000), at('c', 'j', 'view', 2000),
        at('d', 'j', 'dislike', 3000), at('e', 'k', 'rating', 3000, 4), at('f', 'k', 'rating', 2000, -1),
      ],
      { createMissingItems: true },
    );
    const { anchor, items } = await store.decayedItemCounts(H, ['click', 'view'], 1);
    expect(anchor).toBe(3000);
    const weights = Object.fromEntries(items.map((r) => [r.itemId, r.weight]));
    // i: 2^0 + 2^-2; j: the view 2^-1 (dislikes not counted); k: the positive rating only, 2^0.
    expect(weights).toEqual({ i: 1.25, j: 0.5, k: 1 });
    // Half-life 0: plain counts; rating sign 0: no ratings.
    const plain = await store.decayedItemCounts(0, ['click'], 0);
    expect(plain.items).toEqual([{ itemId: 'i', weight: 2 }]);
  });

  it('deleteUser removes only that user', async () => {
    const store = memory();
    await store.addFeedback([ev('gone', 'i', 1), ev('gone', 'j', 2), ev('stays', 'i', 3)], { createMissingItems: true });
    expect(await store.deleteUser('gone')).toBe(2);
    expect(await store.getUser('gone')).toBeNull();
    expect(await store.userFeedback('gone')).toEqual([]);
    expect(await store.countFeedback()).toBe(1);
    expect((await store.getUser('stays'))!.interactions).toBe(1);
    expect(await store.deleteUser('never-existed')).toBe(0);
  });
});

describe('models', () => {
  const meta = (trainedAt: number) => ({ algorithm: 'als', params: { k: 8 }, metrics: { ndcg: 0.25 }, trainedAt, feedbackWatermark: 42 });

  it('round-trips bytes exactly and lists metadata newest first', async () => {
    const store = memory();
    const backing = new Uint8Array(256).map((_, i) => i);
    const bytes = backing.subarray(3, 200); // a view with an offset, as typed-array slices often are
    expect(await store.saveModel(meta(1), bytes)).toEqual({ version: 1, ...meta(1) });
    await store.saveModel(meta(2), new Uint8Array([9]));
    const loaded = await store.loadModelBytes(1);
    expect(loaded).toBeInstanceOf(Uint8Array);
    expect(loaded.byteLength).toBe(197);
    expect(Array.from(loaded)).toEqual(Array.from(bytes));
    expect(await store.latestModels()).toEqual([{ version: 2, ...meta(2) }, { version: 1, ...meta(1) }]);
  });

  it('prunes to keep without reusing versions', async () => {
    const store = memory();
    for (let t = 1; t <= 4; t++) await store.saveModel(meta(t), new Uint8Array([t]), 2);
    expect((await store.latestModels()).map((m) => m.version)).toEqual([4, 3]);
    await expect(store.loadModelBytes(1)).rejects.toThrow(NotFoundError);
    await store.saveModel(meta(5), new Uint8Array([5]), 1);
    expect((await store.latestModels()).map((m) => m.version)).toEqual([5]);
    await expect(store.saveModel(meta(6), new Uint8Array([6]), 0)).rejects.toThrow(RangeError);
    expect((await store.latestModels()).map((m) => m.version)).toEqual([5]);
  });

  it('detects a corrupted blob', async () => {
    const store = track(SqliteStore.open(dbPath()));
    await store.saveModel(meta(1), new Uint8Array([1, 2, 3]));
    const raw = track(new Database(dbPath()));
    raw.prepare('UPDATE models SET bytes = ? WHERE version = 1').run(Buffer.from([1, 2, 4]));
    await expect(store.loadModelBytes(1)).rejects.toThrow(CorruptModelError);
    await expect(store.loadModelBytes(1)).rejects.toThrow(/checksum/);
  });
});

describe('durability and schema', () => {
  it('keeps data across close and reopen of a file database in WAL mode', async () => {
    const first = SqliteStore.open(dbPath());
    await first.upsertItems([{ itemId: 'i', title: 'T', categories: ['c'] }], 10);
    await first.addFeedback([ev('u', 'i', 20)], { createMissingItems: false, receivedAt: 30 });
    await first.saveModel({ algorithm: 'pop', params: {}, metrics: {}, trainedAt: 40, feedbackWatermark: 1 }, new Uint8Array([7, 7]));
    await first.close();

    const again = track(SqliteStore.open(dbPath()));
    expect(await again.getItem('i')).toMatchObject({ title: 'T', categories: ['c'], createdAt: 10 });
    expect(await again.userFeedback('u')).toEqual([{ id: 1, userId: 'u', itemId: 'i', type: 'click', value: null, timestamp: 20, receivedAt: 30 }]);
    expect(Array.from(await again.loadModelBytes(1))).toEqual([7, 7]);
    expect(track(new Database(dbPath())).pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('migrates once: sets user_version and reopening does not re-run migrations', async () => {
    await SqliteStore.open(dbPath()).close();
    const raw = new Database(dbPath());
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw.close();
    // Re-running migration 0 would fail with "table items already exists".
    const again = track(SqliteStore.open(dbPath()));
    expect(await again.countFeedback()).toBe(0);
    const reader = track(SqliteStore.open(dbPath(), { readonly: true }));
    expect(await reader.listItems()).toEqual([]);
  });

  it('applies pending migrations all or nothing and refuses a newer schema', async () => {
    const raw = track(new Database(':memory:'));
    expect(() => migrate(raw, ['CREATE TABLE one (x)', 'CREATE TABLE broken ('])).toThrow();
    expect(raw.pragma('user_version', { simple: true })).toBe(0);
    expect(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'one'").pluck().get()).toBe(0);

    const future = new Database(dbPath());
    future.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    await future.close();
    expect(() => SqliteStore.open(dbPath())).toThrow(IncompatibleSchemaError);
  });
});

describe('unavailability', () => {
  it('reports a held lock as StoreUnavailableError without SQL text, and stores nothing', async () => {
    const store = track(SqliteStore.open(dbPath(), { busyTimeoutMs: 50 }));
    const other = track(new Database(dbPath()));
    other.exec('BEGIN IMMEDIATE');
    const err = await store.addFeedback([ev('u', 'i', 1)], { createMissingItems: true }).then(() => undefined, (e: unknown) => e);
    other.exec('ROLLBACK');
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).reason).toBe('busy');
    expect((err as Error).message).not.toMatch(/INSERT|SELECT|feedback/i);
    expect(await store.countFeedback()).toBe(0);
  });

  it('maps disk-full, lock, I/O, read-only and cannot-open codes, and leaves other errors alone', async () => {
    const cases: Array<[string, string]> = [
      ['SQLITE_FULL', 'full'],
      ['SQLITE_BUSY', 'busy'],
      ['SQLITE_BUSY_SNAPSHOT', 'busy'],
      ['SQLITE_LOCKED', 'busy'],
      ['SQLITE_LOCKED_SHAREDCACHE', 'busy'],
      ['SQLITE_IOERR', 'io'],
      ['SQLITE_IOERR_WRITE', 'io'],
      ['SQLITE_IOERR_FSYNC', 'io'],
      ['SQLITE_READONLY', 'readonly'],
      ['SQLITE_READONLY_DBMOVED', 'readonly'],
      ['SQLITE_CANTOPEN', 'io'],
    ];
    for (const [code, reason] of cases) {
      const err = translateSqliteError(new Database.SqliteError('near "INSERT INTO feedback": failed', code));
      expect(err, code).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).reason, code).toBe(reason);
      expect((err as Error).message, code).not.toMatch(/INSERT|feedback|SQLITE/);
    }
    const constraint = new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE');
    expect(translateSqliteError(constraint)).toBe(constraint);
  });

  it('waits up to the busy timeout for a lock, even when the transaction reads before it writes', async () => {
    const store = track(SqliteStore.open(dbPath(), { busyTimeoutMs: 300 }));
    await store.upsertItems([{ itemId: 'i' }]);
    const other = track(new Database(dbPath()));
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    // addFeedback looks the item up before inserting: begun DEFERRED, that upgrade fails at once.
    await expect(store.addFeedback([ev('u', 'i', 1)], { createMissingItems: true })).rejects.toThrow(StoreUnavailableError);
    const waited = performance.now() - started;
    other.exec('ROLLBACK');
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2_000);
    expect((await store.addFeedback([ev('u', 'i', 1)], { createMissingItems: true })).accepted).toBe(1);
  });

  it('queues a write behind another process that holds the lock briefly', async () => {
    const path = dbPath();
    const store = track(SqliteStore.open(path, { busyTimeoutMs: 5_000 }));
    await store.upsertItems([{ itemId: 'i' }]);
    const holder = `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE');
      process.stdout.write('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`;
    const child = spawn(process.execPath, ['-e', holder, path], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      void exited.then((code) => reject(new Error(`lock holder exited early with ${String(code)}`)));
    });
    const started = performance.now();
    expect((await store.addFeedback([ev('u', 'i', 1)], { createMissingItems: true })).accepted).toBe(1);
    expect(performance.now() - started).toBeGreaterThan(100);
    expect(await exited).toBe(0);
    expect(await store.countFeedback()).toBe(1);
  });

  it('rolls a batch back whole when the database is full, keeping earlier rows', async () => {
    const store = track(SqliteStore.open(dbPath()));
    await store.addFeedback([ev('before', 'i', 1)], { createMissingItems: true });
    const db = (store as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const batch = Array.from({ length: 2_000 }, (_, k) => ev(`user-${k}-${'x'.repeat(100)}`, `item-${k}`, k));
    const err = await store.addFeedback(batch, { createMissingItems: true }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).reason).toBe('full');
    expect(await store.countFeedback()).toBe(1);
    expect(await store.getUser('user-0-' + 'x'.repeat(100))).toBeNull();
    expect(await store.getItem('item-0')).toBeNull();
    expect(await store.userFeedback('before')).toHaveLength(1);
  });

  it('names the path when the database cannot be opened', async () => {
    // A directory where the file should be: SQLITE_CANTOPEN.
    expect(() => SqliteStore.open(dir)).toThrow(StoreUnavailableError);
    expect(() => SqliteStore.open(dir)).toThrow(`cannot open ${dir}: storage cannot be opened`);
  });
});

describe('per-user histories, item feedback and flags', () => {
  const ev = (userId: string, itemId: string, timestamp: number) => ({ userId, itemId, type: 'click' as const, value: null, timestamp });

  it('streams each user whole, in time order, skipping flagged users unless asked', async () => {
    const store = SqliteStore.open(':memory:');
    await store.addFeedback([ev('b', 'x', 30), ev('a', 'x', 20), ev('b', 'y', 10), ev('a', 'z', 5)], { createMissingItems: true });
    const seen: Array<[string, string[]]> = [];
    await store.forEachUserHistory((userId, events) => seen.push([userId, events.map((e) => `${e.itemId}@${e.timestamp}`)]));
    // Users in insertion order of their rows ('b' was created first), events by timestamp.
    expect(seen).toEqual([['b', ['y@10', 'x@30']], ['a', ['z@5', 'x@20']]]);
    expect(await store.flagUser('b', 'too fast', 99)).toBe(true);
    expect((await store.getUser('b'))!.flag).toEqual({ reason: 'too fast', at: 99 });
    expect(await store.flaggedUsers()).toEqual(['b']);
    const unflagged: string[] = [];
    await store.forEachUserHistory((userId) => unflagged.push(userId));
    expect(unflagged).toEqual(['a']);
    const all: string[] = [];
    await store.forEachUserHistory((userId) => all.push(userId), { includeFlagged: true });
    expect(all).toEqual(['b', 'a']);
    expect(await store.unflagUser('b')).toBe(true);
    expect((await store.getUser('b'))!.flag).toBeNull();
    expect(await store.flagUser('nobody', 'x', 1)).toBe(false);
    expect((await store.itemFeedback('x')).map((e) => e.userId)).toEqual(['a', 'b']);
    await store.close();
  });
});
