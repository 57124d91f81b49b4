/**
 * The storage contract, run against every backend (test/store/backends.ts): what the engine may
 * rely on whichever database holds the data. Backend-specific behaviour (SQLite's WAL, locks
 * and files; PostgreSQL's replication, migrations and connection failures) is tested beside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptModelError, NotFoundError } from '../../src/store/errors.ts';
import type { FeedbackInput, FeedbackType, Store } from '../../src/store/types.ts';
import { BACKENDS, closeAll } from './backends.ts';

const ev = (userId: string, itemId: string, timestamp: number, type: FeedbackType = 'click'): FeedbackInput =>
  ({ userId, itemId, type, value: null, timestamp });
const create = { createMissingItems: true };
const modelMeta = (trainedAt: number) => ({ algorithm: 'als', params: { k: 8, lambda: 0.1 }, metrics: { ndcg: 0.25 }, trainedAt, feedbackWatermark: 42 });

describe.each(BACKENDS)('store contract on $name', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(closeAll);

  describe('items', () => {
    it('round-trips every field and keeps omitted fields on update (a null title is a value)', async () => {
      expect(await store.upsertItems([{ itemId: 'a', title: 'Alpha', categories: ['x', 'y'], metadata: { price: 3, b: 1, a: 2 }, available: false }], 1000)).toBe(1);
      expect(await store.getItem('a')).toEqual({
        itemId: 'a', title: 'Alpha', categories: ['x', 'y'], metadata: { price: 3, b: 1, a: 2 }, available: false, createdAt: 1000, updatedAt: 1000,
      });
      // Metadata comes back as sent, key order included.
      expect(Object.keys((await store.getItem('a'))!.metadata)).toEqual(['price', 'b', 'a']);

      await store.upsertItems([{ itemId: 'a', title: 'Alpha 2' }], 2000);
      expect(await store.getItem('a')).toEqual({
        itemId: 'a', title: 'Alpha 2', categories: ['x', 'y'], metadata: { price: 3, b: 1, a: 2 }, available: false, createdAt: 1000, updatedAt: 2000,
      });
      await store.upsertItems([{ itemId: 'a', metadata: { price: 4 } }], 2500);
      expect(await store.getItem('a')).toMatchObject({ title: 'Alpha 2', categories: ['x', 'y'], metadata: { price: 4 }, available: false });
      await store.upsertItems([{ itemId: 'a', title: null, categories: [], available: true }], 3000);
      const a = (await store.getItem('a'))!;
      expect([a.title, a.categories, a.metadata, a.available, a.createdAt, a.updatedAt]).toEqual([null, [], { price: 4 }, true, 1000, 3000]);
      await store.upsertItems([{ itemId: 'a', title: undefined }], 3500);
      expect((await store.getItem('a'))!.title).toBeNull();
    });

    it('gives new items defaults, lists them in insertion order and applies repeats of one id in turn', async () => {
      await store.upsertItems([{ itemId: 'z' }, { itemId: 'b' }], 5);
      expect(await store.upsertItems([{ itemId: 'a' }, { itemId: 'z', title: 'later' }], 6)).toBe(2);
      expect(await store.getItem('b')).toEqual({ itemId: 'b', title: null, categories: [], metadata: {}, available: true, createdAt: 5, updatedAt: 5 });
      expect((await store.listItems()).map((i) => i.itemId)).toEqual(['z', 'b', 'a']);

      expect(await store.upsertItems([{ itemId: 'r', title: 'one', categories: ['c'] }, { itemId: 'r', title: 'two' }, { itemId: 'r', available: false }], 7)).toBe(3);
      expect(await store.getItem('r')).toMatchObject({ title: 'two', categories: ['c'], available: false, createdAt: 7 });
      expect(await store.upsertItems([], 8)).toBe(0);
    });

    it('returns found items in the order asked and refuses availability for an unknown item', async () => {
      await store.upsertItems([{ itemId: 'a' }, { itemId: 'b' }, { itemId: 'c' }], 1);
      expect((await store.getItems(['c', 'nope', 'a'])).map((i) => i.itemId)).toEqual(['c', 'a']);
      expect(await store.getItems([])).toEqual([]);
      expect(await store.getItem('nope')).toBeNull();

      expect(await store.setItemAvailable('b', false, 40)).toBe(true);
      expect(await store.getItem('b')).toMatchObject({ available: false, updatedAt: 40 });
      expect(await store.setItemAvailable('nope', false, 41)).toBe(false);
      expect(await store.getItem('nope')).toBeNull();
    });
  });

  describe('addFeedback', () => {
    it('creates users and bare items, and stores every field', async () => {
      await store.upsertItems([{ itemId: 'known', title: 'K' }], 1);
      const result = await store.addFeedback(
        [{ userId: 'u1', itemId: 'new', type: 'rating', value: 4.5, timestamp: 500 }, ev('u1', 'new', 300), ev('u1', 'known', 400), ev('u2', 'other', 450)],
        { createMissingItems: true, receivedAt: 9000 },
      );
      expect(result).toEqual({ accepted: 4, duplicates: 0, stored: [true, true, true, true], createdItems: ['new', 'other'] });
      expect(await store.getItem('new')).toEqual({ itemId: 'new', title: null, categories: [], metadata: {}, available: true, createdAt: 9000, updatedAt: 9000 });
      expect(await store.getItem('known')).toMatchObject({ title: 'K', createdAt: 1 });
      // First and last seen are event times, not arrival order.
      expect(await store.getUser('u1')).toEqual({ userId: 'u1', firstSeen: 300, lastSeen: 500, interactions: 3, flag: null });
      const rows = await store.userFeedback('u1');
      expect(rows.map((r) => r.timestamp)).toEqual([300, 400, 500]);
      expect(rows[2]).toEqual({ id: rows[2].id, userId: 'u1', itemId: 'new', type: 'rating', value: 4.5, timestamp: 500, receivedAt: 9000 });
      // Ids follow input order.
      expect(rows[2].id).toBeLessThan(rows[0].id);
      expect(rows[0].id).toBeLessThan(rows[1].id);

      await store.addFeedback([ev('u1', 'known', 100), ev('u1', 'known', 900)], { createMissingItems: false });
      expect(await store.getUser('u1')).toMatchObject({ firstSeen: 100, lastSeen: 900, interactions: 5 });
      expect(await store.addFeedback([], create)).toEqual({ accepted: 0, duplicates: 0, stored: [], createdItems: [] });
    });

    it('stores an exact repeat once, within a batch and across batches, and counts it', async () => {
      expect(await store.addFeedback([ev('u', 'i', 1)], create)).toEqual({ accepted: 1, duplicates: 0, stored: [true], createdItems: ['i'] });
      expect(await store.addFeedback([ev('u', 'i', 1)], create)).toEqual({ accepted: 0, duplicates: 1, stored: [false], createdItems: [] });
      expect(await store.addFeedback([ev('u', 'i', 2), ev('u', 'i', 2), ev('u', 'i', 2, 'like'), ev('u', 'i', 1), ev('v', 'i', 2)], create))
        .toEqual({ accepted: 3, duplicates: 2, stored: [true, false, true, false, true], createdItems: [] });
      expect(await store.countFeedback()).toBe(4);
      expect(await store.getUser('u')).toMatchObject({ interactions: 3 });
      expect(await store.getUser('v')).toMatchObject({ interactions: 1 });
      // A repeat with another value is still the same event (user, item, type, time).
      const rating = { userId: 'u', itemId: 'i', type: 'rating' as const, value: 4, timestamp: 5 };
      await store.addFeedback([rating], create);
      expect((await store.addFeedback([{ ...rating, value: 1 }], create)).duplicates).toBe(1);
      expect((await store.userFeedback('u')).filter((r) => r.type === 'rating').map((r) => r.value)).toEqual([4]);
    });

    it('stores nothing when an item is unknown and creation is not allowed', async () => {
      await store.upsertItems([{ itemId: 'known' }], 1);
      await store.addFeedback([ev('u0', 'known', 1)], { createMissingItems: false });
      const batch = [ev('u1', 'known', 2), ev('u1', 'ghost', 3), ev('u2', 'phantom', 4)];
      const err = await store.addFeedback(batch, { createMissingItems: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).field).toBe('itemId');
      expect((err as NotFoundError).id).toBe('ghost');
      expect((err as Error).message).toMatch(/itemId 'ghost' does not exist/);
      expect(await store.countFeedback()).toBe(1);
      expect(await store.getUser('u1')).toBeNull();
      expect(await store.getUser('u2')).toBeNull();
      expect(await store.getItem('ghost')).toBeNull();
      expect(await store.getUser('u0')).toMatchObject({ interactions: 1, lastSeen: 1 });
    });

    it('rolls the whole batch back when one row breaks the schema', async () => {
      const bad = { ...ev('u1', 'made-here', 2), type: 'shrug' as FeedbackType };
      await expect(store.addFeedback([ev('u1', 'made-here', 1), bad], create)).rejects.toThrow();
      expect(await store.countFeedback()).toBe(0);
      expect(await store.getUser('u1')).toBeNull();
      expect(await store.getItem('made-here')).toBeNull();
    });

    it('lists each created item once, in order of first mention', async () => {
      await store.upsertItems([{ itemId: 'old' }], 1);
      const result = await store.addFeedback([ev('a', 'n2', 1), ev('b', 'old', 1), ev('c', 'n1', 1), ev('d', 'n2', 2), ev('e', 'n1', 3)], create);
      expect(result.createdItems).toEqual(['n2', 'n1']);
      // Items created together come after the older ones, in an order of the backend's.
      const listed = (await store.listItems()).map((i) => i.itemId);
      expect([listed[0], [...listed.slice(1)].sort()]).toEqual(['old', ['n1', 'n2']]);
    });
  });

  describe('importFeedback', () => {
    it('stores a load as addFeedback would: users, bare items, each exact repeat once (the first), counts', async () => {
      await store.upsertItems([{ itemId: 'known', title: 'K' }], 1);
      await store.addFeedback([ev('u1', 'known', 50)], { createMissingItems: false });
      const load = await store.importFeedback();
      await load.add([{ userId: 'u1', itemId: 'new', type: 'rating', value: 4, timestamp: 500 }, ev('u1', 'known', 300), ev('u2', 'other', 450)]);
      // Repeats within the load and of a stored row; a rating repeated with another value is the same event.
      await load.add([ev('u1', 'known', 300), ev('u1', 'known', 50), { userId: 'u1', itemId: 'new', type: 'rating', value: 1, timestamp: 500 }]);
      await load.add([]);
      expect(await load.finish()).toEqual({ accepted: 3, duplicates: 3 });

      expect(await store.countFeedback()).toBe(4);
      expect(await store.getItem('new')).toMatchObject({ title: null, categories: [], available: true });
      expect(await store.getItem('known')).toMatchObject({ title: 'K', createdAt: 1 });
      expect(await store.getUser('u1')).toEqual({ userId: 'u1', firstSeen: 50, lastSeen: 500, interactions: 3, flag: null });
      expect(await store.getUser('u2')).toMatchObject({ firstSeen: 450, lastSeen: 450, interactions: 1 });
      const rows = await store.userFeedback('u1');
      expect(rows.map((r) => [r.itemId, r.type, r.value, r.timestamp])).toEqual([['known', 'click', null, 50], ['known', 'click', null, 300], ['new', 'rating', 4, 500]]);
      // Every row of the load is newer than what was stored before it.
      expect(Math.min(...rows.slice(1).map((r) => r.id))).toBeGreaterThan(rows[0].id);
    });

    it('stores nothing for an empty load, and a second load after a first', async () => {
      expect(await (await store.importFeedback()).finish()).toEqual({ accepted: 0, duplicates: 0 });
      for (const t of [1, 2]) {
        const load = await store.importFeedback();
        await load.add([ev('u', 'i', t), ev('u', 'i', 1)]);
        expect(await load.finish()).toEqual({ accepted: 1, duplicates: 1 });
      }
      expect(await store.getUser('u')).toMatchObject({ firstSeen: 1, lastSeen: 2, interactions: 2 });
    });
  });

  describe('reading the log', () => {
    it('orders a user’s and an item’s events by time then id, and the log by id', async () => {
      expect(await store.maxFeedbackId()).toBe(0);
      expect(await store.feedbackSince(0)).toEqual([]);
      await store.addFeedback([ev('a', 'x', 20), ev('a', 'y', 10), ev('b', 'x', 5), ev('a', 'z', 10), ev('c', 'y', 10)], create);
      expect((await store.userFeedback('a')).map((r) => `${r.itemId}@${r.timestamp}`)).toEqual(['y@10', 'z@10', 'x@20']);
      expect((await store.itemFeedback('x')).map((r) => r.userId)).toEqual(['b', 'a']);
      expect(await store.userFeedback('nobody')).toEqual([]);

      const all = await store.feedbackSince(0);
      expect(all.map((r) => r.itemId)).toEqual(['x', 'y', 'x', 'z', 'y']);
      const ids = all.map((r) => r.id);
      expect([...ids].sort((p, q) => p - q)).toEqual(ids);
      expect(await store.maxFeedbackId()).toBe(ids[4]);
      expect(await store.countFeedback()).toBe(5);
      expect((await store.feedbackSince(ids[1])).map((r) => r.id)).toEqual(ids.slice(2));
      expect((await store.feedbackSince(ids[1], 2)).map((r) => r.id)).toEqual(ids.slice(2, 4));
      expect(await store.usersWithFeedbackAfter(ids[1])).toEqual(['a', 'b', 'c']);
      expect(await store.usersWithFeedbackAfter(ids[3])).toEqual(['c']);
      expect(await store.usersWithFeedbackAfter(ids[4])).toEqual([]);

      const streamed: number[] = [];
      await store.forEachFeedback((row) => streamed.push(row.id));
      expect(streamed).toEqual(ids);
    });

    it('reports a user’s watermark: stored rows and their highest id', async () => {
      expect(await store.userWatermark('u')).toEqual({ count: 0, maxId: 0 });
      await store.addFeedback([ev('u', 'i', 1), ev('other', 'i', 1), ev('u', 'j', 2)], create);
      const ids = (await store.userFeedback('u')).map((r) => r.id);
      expect(await store.userWatermark('u')).toEqual({ count: 2, maxId: Math.max(...ids) });
      await store.addFeedback([ev('u', 'i', 1)], create);
      expect(await store.userWatermark('u')).toEqual({ count: 2, maxId: Math.max(...ids) });
      await store.addFeedback([ev('other', 'j', 9)], create);
      expect((await store.userWatermark('u')).count).toBe(2);
    });

    it('counts arrivals per minute and type, and events per type', async () => {
      const minute = 60_000;
      await store.addFeedback([ev('a', 'i', 1), ev('b', 'i', 1, 'view')], { createMissingItems: true, receivedAt: 10 * minute + 5 });
      await store.addFeedback([ev('c', 'i', 1), ev('d', 'i', 1)], { createMissingItems: true, receivedAt: 11 * minute + 59_999 });
      await store.addFeedback([ev('e', 'i', 1)], { createMissingItems: true, receivedAt: 9 * minute });
      const arrivals = (await store.arrivalsSince(10 * minute)).sort((p, q) => p.minute - q.minute || p.type.localeCompare(q.type));
      expect(arrivals).toEqual([
        { minute: 10 * minute, type: 'click', count: 1 },
        { minute: 10 * minute, type: 'view', count: 1 },
        { minute: 11 * minute, type: 'click', count: 2 },
      ]);
      expect(await store.countsByType()).toEqual({ click: 4, view: 1 });
    });

    it('sums decayed popularity per item, counting only the types and rating signs asked for', async () => {
      expect(await store.decayedItemCounts(1000, ['click'], 1)).toEqual({ anchor: 0, items: [] });
      const at = (userId: string, itemId: string, type: FeedbackType, ts: number, value: number | null = null) => ({ userId, itemId, type, value, timestamp: ts });
      await store.addFeedback([
        at('a', 'i', 'click', 3000), at('b', 'i', 'click', 1000), at('c', 'j', 'view', 2000),
        at('d', 'j', 'dislike', 3000), at('e', 'k', 'rating', 3000, 4), at('f', 'k', 'rating', 2000, -1),
        // So old that 2^(Δ/halfLife) is below the smallest double: counts 0, and must not fail.
        at('g', 'ancient', 'click', 3000 - 2_000_000),
      ], create);
      const weights = async (halfLife: number, types: FeedbackType[], sign: number) => {
        const { anchor, items } = await store.decayedItemCounts(halfLife, types, sign);
        return { anchor, weights: Object.fromEntries(items.map((r) => [r.itemId, r.weight])) };
      };
      // i: 2^0 + 2^-2; j: the view 2^-1 (dislikes not asked for); k: the positive rating only, 2^0.
      expect(await weights(1000, ['click', 'view'], 1)).toEqual({ anchor: 3000, weights: { i: 1.25, j: 0.5, k: 1, ancient: 0 } });
      // Negative ratings only: k's -1 at 2000.
      expect(await weights(1000, [], -1)).toEqual({ anchor: 3000, weights: { k: 0.5 } });
      // Half-life 0: plain counts; rating sign 0: no ratings.
      expect(await weights(0, ['click'], 0)).toEqual({ anchor: 3000, weights: { i: 2, ancient: 1 } });
    });

    it('streams each user whole, in time order, skipping flagged users unless asked', async () => {
      await store.addFeedback([ev('b', 'x', 30), ev('a', 'x', 20), ev('b', 'y', 10), ev('a', 'z', 5), ev('c', 'z', 1)], create);
      const histories = async (includeFlagged?: boolean) => {
        const seen: Array<[string, string[]]> = [];
        await store.forEachUserHistory((userId, events) => seen.push([userId, events.map((e) => `${e.itemId}@${e.timestamp}`)]), { includeFlagged });
        // Each user exactly once; the order of users is the backend's.
        expect(new Set(seen.map(([u]) => u)).size).toBe(seen.length);
        return seen.sort(([p], [q]) => p.localeCompare(q));
      };
      expect(await histories()).toEqual([['a', ['z@5', 'x@20']], ['b', ['y@10', 'x@30']], ['c', ['z@1']]]);
      await store.flagUser('b', 'too fast', 99);
      expect((await histories()).map(([u]) => u)).toEqual(['a', 'c']);
      expect((await histories(true)).map(([u]) => u)).toEqual(['a', 'b', 'c']);
    });

    it('prunes events received before a time, users left without any, and recounts the rest', async () => {
      await store.addFeedback([ev('old', 'i', 1), ev('mixed', 'i', 1)], { createMissingItems: true, receivedAt: 100 });
      await store.addFeedback([ev('mixed', 'j', 2), ev('new', 'j', 2)], { createMissingItems: true, receivedAt: 200 });
      expect(await store.pruneFeedback(200)).toBe(2);
      expect(await store.getUser('old')).toBeNull();
      expect(await store.getUser('mixed')).toMatchObject({ interactions: 1 });
      expect((await store.userFeedback('mixed')).map((r) => r.itemId)).toEqual(['j']);
      expect(await store.countFeedback()).toBe(2);
      expect(await store.getItem('i')).not.toBeNull();
      expect(await store.pruneFeedback(200)).toBe(0);
    });
  });

  describe('users', () => {
    it('flags and unflags, lists flagged users and refuses unknown ones', async () => {
      await store.addFeedback([ev('b', 'x', 1), ev('a', 'x', 1), ev('c', 'x', 1)], create);
      expect(await store.flagUser('c', 'bot rate', 99)).toBe(true);
      expect(await store.flagUser('a', '', 98)).toBe(true);
      expect((await store.getUser('c'))!.flag).toEqual({ reason: 'bot rate', at: 99 });
      expect(await store.flaggedUsers()).toEqual(['a', 'c']);
      expect(await store.unflagUser('c')).toBe(true);
      expect((await store.getUser('c'))!.flag).toBeNull();
      expect(await store.flaggedUsers()).toEqual(['a']);
      expect(await store.flagUser('nobody', 'x', 1)).toBe(false);
      expect(await store.unflagUser('nobody')).toBe(false);
    });

    it('erases a user without a trace and leaves everyone else alone', async () => {
      const id = 'erase-me-7f3a9c';
      await store.addFeedback([ev(id, 'i', 1), ev(id, 'j', 2), ev('stays', 'i', 3)], create);
      await store.flagUser(id, 'suspicious', 5);
      expect(await store.deleteUser(id)).toBe(2);
      expect(await store.getUser(id)).toBeNull();
      expect(await store.userFeedback(id)).toEqual([]);
      expect(await store.userWatermark(id)).toEqual({ count: 0, maxId: 0 });
      expect(await store.flaggedUsers()).toEqual([]);
      expect(await store.countFeedback()).toBe(1);
      expect(await store.getUser('stays')).toMatchObject({ interactions: 1 });
      // Not a user row, not a feedback row, not a change-log subject: the id is stored nowhere.
      expect(await backend.columnsContaining(store, id)).toEqual([]);
      expect(await backend.columnsContaining(store, 'stays')).toEqual(['users.external_id']);
      expect(await store.deleteUser('never-existed')).toBe(0);
      // Whoever posts again later is a new user.
      await store.addFeedback([ev(id, 'i', 10)], create);
      expect(await store.getUser(id)).toMatchObject({ firstSeen: 10, interactions: 1, flag: null });
    });
  });

  it('finds nothing, without failing, for ids no store could hold (U+0000)', async () => {
    await store.addFeedback([ev('u', 'i', 1)], create);
    const odd = 'u\u0000';
    expect(await store.getUser(odd)).toBeNull();
    expect(await store.userFeedback(odd)).toEqual([]);
    expect(await store.userWatermark(odd)).toEqual({ count: 0, maxId: 0 });
    expect(await store.flagUser(odd, 'x', 1)).toBe(false);
    expect(await store.unflagUser(odd)).toBe(false);
    expect(await store.deleteUser(odd)).toBe(0);
    expect(await store.getItem('i\u0000')).toBeNull();
    expect((await store.getItems(['i\u0000', 'i'])).map((i) => i.itemId)).toEqual(['i']);
    expect(await store.itemFeedback('i\u0000')).toEqual([]);
    expect(await store.setItemAvailable('i\u0000', false)).toBe(false);
  });

  describe('models', () => {
    it('round-trips bytes exactly, as a plain copy, and lists metadata newest first', async () => {
      const backing = new Uint8Array(256).map((_, i) => i);
      const bytes = backing.subarray(3, 200); // a view with an offset, as typed-array slices often are
      const first = await store.saveModel(modelMeta(1), bytes);
      expect(first).toEqual({ version: first.version, ...modelMeta(1) });
      const second = await store.saveModel(modelMeta(2), new Uint8Array([9]));
      expect(second.version).toBeGreaterThan(first.version);
      const loaded = await store.loadModelBytes(first.version);
      expect(loaded).toBeInstanceOf(Uint8Array);
      expect([loaded.byteOffset, loaded.byteLength, loaded.buffer.byteLength]).toEqual([0, 197, 197]);
      expect(Array.from(loaded)).toEqual(Array.from(bytes));
      expect(await store.latestModels()).toEqual([{ version: second.version, ...modelMeta(2) }, { version: first.version, ...modelMeta(1) }]);
    });

    it('round-trips a model of several megabytes and an empty one', async () => {
      const big = randomBytes(8 * 1024 * 1024 + 12_345);
      const { version } = await store.saveModel(modelMeta(1), big);
      const loaded = await store.loadModelBytes(version);
      expect(loaded.byteLength).toBe(big.byteLength);
      expect(createHash('sha256').update(loaded).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
      const empty = await store.saveModel(modelMeta(2), new Uint8Array(0));
      expect((await store.loadModelBytes(empty.version)).byteLength).toBe(0);
    });

    it('prunes to keep without reusing versions; a pruned version is not found', async () => {
      const versions: number[] = [];
      for (let t = 1; t <= 4; t++) versions.push((await store.saveModel(modelMeta(t), new Uint8Array([t]), 2)).version);
      expect(versions).toEqual([...versions].sort((p, q) => p - q));
      expect(new Set(versions).size).toBe(4);
      expect((await store.latestModels()).map((m) => m.version)).toEqual([versions[3], versions[2]]);
      const err = await store.loadModelBytes(versions[0]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).field).toBe('version');
      const fifth = await store.saveModel(modelMeta(5), new Uint8Array([5]), 1);
      expect(fifth.version).toBeGreaterThan(versions[3]);
      expect((await store.latestModels()).map((m) => m.version)).toEqual([fifth.version]);
      await expect(store.saveModel(modelMeta(6), new Uint8Array([6]), 0)).rejects.toThrow(RangeError);
      expect((await store.latestModels()).map((m) => m.version)).toEqual([fifth.version]);
    });

    it('detects bytes changed behind its back', async () => {
      const { version } = await store.saveModel(modelMeta(1), new Uint8Array([1, 2, 3]));
      await backend.corruptModel(store, version);
      const err = await store.loadModelBytes(version).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptModelError);
      expect((err as Error).message).toMatch(/checksum/);
    });
  });

  describe('evaluations and audit', () => {
    it('lists both newest first, up to the limit', async () => {
      await store.addEvaluation('holdout', { ndcg: 0.1 }, 1);
      await store.addEvaluation('replay', { hits: 3, nested: { z: 1, a: [1, 2] } }, 2);
      expect(await store.evaluations()).toEqual([
        { kind: 'replay', createdAt: 2, summary: { hits: 3, nested: { z: 1, a: [1, 2] } } },
        { kind: 'holdout', createdAt: 1, summary: { ndcg: 0.1 } },
      ]);
      expect((await store.evaluations(1)).map((e) => e.kind)).toEqual(['replay']);

      await store.audit('erase', 'hash-1', { rows: 2 }, 10);
      await store.audit('unflag', null, undefined, 11);
      expect(await store.auditLog()).toEqual([
        { at: 11, action: 'unflag', subject: null, detail: {} },
        { at: 10, action: 'erase', subject: 'hash-1', detail: { rows: 2 } },
      ]);
      expect(await store.auditLog(1)).toHaveLength(1);
    });
  });
});
