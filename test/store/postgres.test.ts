/**
 * What only the PostgreSQL store does: several servers on one database (the change log, wake-up
 * notices, cluster-wide locks, concurrent writers, migrations run once) and failures of the
 * connection mapped to StoreUnavailableError. The behaviour both backends share is in
 * contract.test.ts.
 */
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IncompatibleSchemaError, StoreUnavailableError } from '../../src/store/errors.ts';
import { translatePostgresError } from '../../src/store/postgres-errors.ts';
import { connectPostgres } from '../../src/store/postgres-connect.ts';
import { migratePostgres, PG_MIGRATIONS, postgresSchemaVersion } from '../../src/store/postgres-migrations.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import type { ChangeKind, FeedbackInput } from '../../src/store/types.ts';
import { freePort, freshDatabase, startCluster, type Cluster } from '../support/postgres.ts';

const ev = (userId: string, itemId: string, timestamp: number): FeedbackInput => ({ userId, itemId, type: 'click', value: null, timestamp });
const create = { createMissingItems: true };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Words of SQL and of our schema that must never reach an API client in an error message. */
const SQL_TEXT = /\b(SELECT|INSERT|UPDATE|DELETE|WITH|FROM)\b|\b(feedback|users|items|external_id|relation|syntax)\b/;

const opened: Array<{ close(): Promise<void> }> = [];
async function open(url: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open(url, options);
  opened.push(store);
  return store;
}
const raw = (url: string) => {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  opened.push({ close: () => sql.end({ timeout: 1 }) });
  return sql;
};
afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close().catch(() => undefined);
});

/** Resolves with the first value `poll` returns that is not undefined, or rejects after `ms`. */
async function eventually<T>(poll: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing arrived within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('replication: the change log', () => {
  it('records one change per catalog, flag, erasure and model write, in commit order', async () => {
    const store = await open(await freshDatabase());
    const log = store.replication;
    expect(await log.lastChangeId()).toBe(0);
    expect(await log.changesSince(0)).toEqual([]);

    await store.upsertItems([{ itemId: 'a' }, { itemId: 'b', title: 'B' }], 10);
    await store.setItemAvailable('b', false, 11);
    expect(await store.setItemAvailable('nope', false, 12)).toBe(false);
    await store.addFeedback([ev('u', 'a', 1)], create); // no new item: no change
    await store.addFeedback([ev('u', 'c', 2), ev('w', 'd', 2), ev('w', 'c', 3)], { createMissingItems: true, receivedAt: 13 });
    await store.flagUser('u', 'fast', 14);
    expect(await store.flagUser('nobody', 'fast', 14)).toBe(false);
    await store.unflagUser('u');
    await store.deleteUser('w');
    expect(await store.deleteUser('w')).toBe(0);
    const model = await store.saveModel({ algorithm: 'pop', params: {}, metrics: {}, trainedAt: 15, feedbackWatermark: 1 }, new Uint8Array([1]));

    const changes = await log.changesSince(0);
    expect(changes.map((c) => [c.kind, c.subject])).toEqual([
      ['items', ['a', 'b']],
      ['items', ['b']],
      ['items', ['c', 'd']],
      ['flags', []],
      ['flags', []],
      ['erase', [sha256('w')]],
      ['model', [String(model.version)]],
    ]);
    expect(changes.slice(0, 4).map((c) => c.at)).toEqual([10, 11, 13, 14]);
    const ids = changes.map((c) => c.id);
    expect([...ids].sort((p, q) => p - q)).toEqual(ids);
    expect(await log.lastChangeId()).toBe(ids[6]);
    expect((await log.changesSince(ids[1], 2)).map((c) => c.id)).toEqual([ids[2], ids[3]]);
    expect(await log.changesSince(ids[6])).toEqual([]);

    // Pruning drops only what was recorded before the cut, and ids go on from where they were.
    expect(await log.pruneChanges(14)).toBe(3);
    expect((await log.changesSince(0)).map((c) => c.id)).toEqual(ids.slice(3));
    expect(await log.pruneChanges(14)).toBe(0);
    expect(await log.lastChangeId()).toBe(ids[6]);
  });

  it('wakes a subscriber on another connection at commit, with the erased id in the notice only', async () => {
    const url = await freshDatabase();
    const writer = await open(url);
    const reader = await open(url);
    const heard: Array<[ChangeKind, string | undefined]> = [];
    const unsubscribe = await reader.replication.subscribe((kind, userId) => heard.push([kind, userId]));

    await writer.upsertItems([{ itemId: 'i' }], 1);
    await eventually(() => (heard.length >= 1 ? true : undefined));
    await writer.addFeedback([ev('gone-user', 'i', 1)], create);
    await writer.flagUser('gone-user', 'x', 2);
    await writer.deleteUser('gone-user');
    await eventually(() => (heard.length >= 3 ? true : undefined));
    expect(heard).toEqual([['items', undefined], ['flags', undefined], ['erase', 'gone-user']]);

    await unsubscribe();
    await writer.upsertItems([{ itemId: 'j' }], 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard).toHaveLength(3);
  });

  it('hands a named lock to one server at a time, and frees it on release or close', async () => {
    const url = await freshDatabase();
    const a = await open(url);
    const b = await open(url);
    const releaseA = await a.replication.tryLock('liverec:retrain');
    expect(releaseA).toBeTypeOf('function');
    expect(await b.replication.tryLock('liverec:retrain')).toBeNull();
    expect(await a.replication.tryLock('liverec:retrain')).toBeNull(); // not re-entrant, even on the same server
    const other = await b.replication.tryLock('liverec:something-else');
    expect(other).toBeTypeOf('function');
    await releaseA!();
    await releaseA!(); // idempotent
    const releaseB = await b.replication.tryLock('liverec:retrain');
    expect(releaseB).toBeTypeOf('function');
    await b.close(); // still holding both
    expect(await a.replication.tryLock('liverec:retrain')).toBeTypeOf('function');
    expect(await a.replication.tryLock('liverec:something-else')).toBeTypeOf('function');
  });
});

describe('several servers writing at once', () => {
  it('stores each event once and counts interactions exactly when the same batch races on two servers', async () => {
    const url = await freshDatabase();
    const a = await open(url);
    const b = await open(url);
    const batch = Array.from({ length: 300 }, (_, k) => ev(`u${k % 17}`, `i${k % 23}`, k));
    const [ra, rb] = await Promise.all([a.addFeedback(batch, create), b.addFeedback(batch, create)]);
    expect(ra.accepted + rb.accepted).toBe(300);
    expect(ra.duplicates + rb.duplicates).toBe(300);
    for (let k = 0; k < 300; k++) expect(ra.stored[k] !== rb.stored[k]).toBe(true);
    expect(ra.createdItems.length + rb.createdItems.length).toBe(23);
    expect(await a.countFeedback()).toBe(300);
    for (let u = 0; u < 17; u++) {
      const user = await a.getUser(`u${u}`);
      expect(user!.interactions).toBe((await a.userFeedback(`u${u}`)).length);
    }
    expect((await a.listItems()).length).toBe(23);
  });

  it('creates the same new items from two servers at once, in opposite orders, without deadlock', async () => {
    const url = await freshDatabase();
    const a = await open(url);
    const b = await open(url);
    for (let round = 0; round < 5; round++) {
      const names = Array.from({ length: 40 }, (_, k) => `r${round}-item-${k}`);
      const [ra, rb] = await Promise.all([
        a.addFeedback(names.map((item, k) => ev(`a${k}`, item, round)), create),
        b.addFeedback([...names].reverse().map((item, k) => ev(`b${k}`, item, round)), create),
      ]);
      expect([...ra.createdItems, ...rb.createdItems].sort()).toEqual([...names].sort());
    }
    expect(await a.countFeedback()).toBe(400);
  });

  it('migrates once when two servers open a new database together', async () => {
    const url = await freshDatabase();
    await Promise.all([open(url), open(url), open(url)]);
    const sql = raw(url);
    expect(await sql`SELECT version FROM liverec_schema`).toEqual([{ version: PG_MIGRATIONS.length }]);
  });
});

describe('schema versions', () => {
  it('refuses a read-only open before migration and a schema newer than this build', async () => {
    const url = await freshDatabase();
    await expect(PostgresStore.open(url, { readonly: true })).rejects.toThrow(IncompatibleSchemaError);
    await open(url);
    const reader = await open(url, { readonly: true });
    expect(await reader.listItems()).toEqual([]);
    const err = await reader.upsertItems([{ itemId: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).reason).toBe('readonly');

    await raw(url)`UPDATE liverec_schema SET version = ${PG_MIGRATIONS.length + 1}`;
    await expect(PostgresStore.open(url)).rejects.toThrow(/newer than this build supports/);
  });

  it('applies pending migrations all or nothing', async () => {
    const url = await freshDatabase();
    const sql = connectPostgres(url);
    opened.push({ close: () => sql.end({ timeout: 1 }) });
    await expect(migratePostgres(sql, ['CREATE TABLE one (x int)', 'CREATE TABLE broken ('])).rejects.toThrow();
    expect(await postgresSchemaVersion(sql)).toBe(0);
    expect(await sql`SELECT to_regclass('one') AS found`).toEqual([{ found: null }]);
    await migratePostgres(sql, ['CREATE TABLE one (x int)']);
    await migratePostgres(sql, ['CREATE TABLE one (x int)', 'CREATE TABLE two (y int)']);
    expect(await postgresSchemaVersion(sql)).toBe(2);
  });

  it('returns ids, times and counts as numbers', async () => {
    const store = await open(await freshDatabase());
    const now = 1_767_225_600_123; // 2026, beyond 2^31 and 2^32
    await store.addFeedback([ev('u', 'i', now)], { createMissingItems: true, receivedAt: now + 1 });
    const [row] = await store.userFeedback('u');
    expect(row).toEqual({ id: row.id, userId: 'u', itemId: 'i', type: 'click', value: null, timestamp: now, receivedAt: now + 1 });
    expect(typeof row.id).toBe('number');
    expect(await store.getUser('u')).toEqual({ userId: 'u', firstSeen: now, lastSeen: now, interactions: 1, flag: null });
    expect(await store.countsByType()).toEqual({ click: 1 });
  });
});

describe('unavailability', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('fails to open quickly, without SQL, when nothing listens at the address', async () => {
    const port = await freePort();
    const started = performance.now();
    const err = await PostgresStore.open(`postgres://liverec:secret@127.0.0.1:${port}/liverec`, { busyTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).reason).toBe('io');
    expect((err as Error).message).toMatch(/^cannot open postgres:\/\/liverec:\*\*\*@127\.0\.0\.1:\d+\/liverec: storage is unreachable/);
    expect((err as Error).message).not.toMatch(/secret/);
    expect((err as Error).message).not.toMatch(SQL_TEXT);
  });

  it('answers StoreUnavailableError while the server is down, and works again once it is back', async () => {
    const url = await freshDatabase(cluster.url);
    const store = await open(url, { busyTimeoutMs: 1000 });
    await store.addFeedback([ev('u', 'i', 1)], create);
    await cluster.pause();
    try {
      for (const attempt of [() => store.addFeedback([ev('u', 'i', 2)], create), () => store.getUser('u'), () => store.userFeedback('u')]) {
        const started = performance.now();
        const err = await attempt().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect((err as Error).message).toMatch(/^storage is (unreachable|unavailable)/);
        expect((err as Error).message).not.toMatch(SQL_TEXT);
        expect(performance.now() - started).toBeLessThan(3000);
      }
    } finally {
      await cluster.resume();
    }
    // The pool reconnects by itself: no new store needed. The failed write did not happen.
    expect((await store.userFeedback('u')).map((r) => r.timestamp)).toEqual([1]);
    expect((await store.addFeedback([ev('u', 'i', 2)], create)).accepted).toBe(1);
  });

  it('gives up on a held lock after the busy timeout, as busy, and stores nothing', async () => {
    const url = await freshDatabase(cluster.url);
    const store = await open(url, { busyTimeoutMs: 300 });
    await store.addFeedback([ev('u', 'i', 1)], create);
    const holder = await raw(url).reserve();
    await holder`BEGIN`;
    await holder`SELECT * FROM users WHERE external_id = 'u' FOR UPDATE`;
    try {
      const started = performance.now();
      const err = await store.addFeedback([ev('u', 'i', 2)], create).catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).reason).toBe('busy');
      expect((err as Error).message).not.toMatch(SQL_TEXT);
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(2000);
    } finally {
      await holder`ROLLBACK`;
      holder.release();
    }
    expect(await store.countFeedback()).toBe(1);
  });

  it('maps each class of transient failure and leaves other errors alone', () => {
    const cases: Array<[string, string]> = [
      ['ECONNREFUSED', 'io'], ['ECONNRESET', 'io'], ['CONNECTION_CLOSED', 'io'], ['CONNECTION_ENDED', 'io'],
      ['CONNECTION_DESTROYED', 'io'], ['CONNECT_TIMEOUT', 'io'], ['08006', 'io'], ['08001', 'io'],
      ['57P01', 'io'], ['57P02', 'io'], ['57P03', 'io'], ['53100', 'full'], ['53300', 'busy'], ['53200', 'busy'],
      ['40001', 'busy'], ['40P01', 'busy'], ['55P03', 'busy'], ['57014', 'busy'], ['25006', 'readonly'], ['3D000', 'io'], ['28P01', 'io'],
    ];
    for (const [code, reason] of cases) {
      const err = translatePostgresError(Object.assign(new Error('INSERT INTO feedback ... failed: relation "users"'), { code }));
      expect(err, code).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).reason, code).toBe(reason);
      expect((err as Error).message, code).not.toMatch(SQL_TEXT);
    }
    const refused = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })]);
    expect(translatePostgresError(refused)).toBeInstanceOf(StoreUnavailableError);
    for (const code of ['23505', '23514', '42P01', 'EPERM', undefined]) {
      const other = Object.assign(new Error('x'), { code });
      expect(translatePostgresError(other), String(code)).toBe(other);
    }
  });
});
