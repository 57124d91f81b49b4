import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { NotFoundError } from '../../src/store/errors.ts';
import type { ServingState } from '../../src/engine/serving-state.ts';
import { loadModel } from '../../src/model/index.ts';
import type { FitRunner } from '../../src/engine/fit-job.ts';
import { Trainer } from '../../src/engine/trainer.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const open: Array<{ engine: Engine; store: SqliteStore }> = [];
const SECRET_USER = 'alice.secret@example.com';

async function shop(config = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'liverec-privacy-')), 'shop.db');
  const store = SqliteStore.open(path);
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, ...config });
  open.push({ engine, store });
  await engine.upsertItems([...SHOP_ITEMS, { itemId: 'only-alice', title: 'Bought by one person', categories: ['rare'] }]);
  await engine.importFeedback([
    ...shopFeedback(),
    ...['h1', 'h2', 'only-alice'].map((itemId, i) => ({ userId: SECRET_USER, itemId, type: 'purchase' as const, value: null, timestamp: T0 + i })),
  ]);
  await engine.trainNow();
  return { engine, store, path };
}

/** Every byte of the database and its side files, as latin1 text, to search for an id. */
function fileText(path: string): string {
  return ['', '-wal', '-shm'].map((suffix) => (existsSync(path + suffix) ? readFileSync(path + suffix).toString('latin1') : '')).join('');
}

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.close();
    await store.close();
  }
});

describe('privacy', () => {
  it('exports everything stored about a user', async () => {
    const { engine } = await shop();
    const exported = await engine.exportUser(SECRET_USER);
    expect(exported.userId).toBe(SECRET_USER);
    expect(exported.profile.interactions).toBe(3);
    expect(exported.feedback).toEqual([
      { itemId: 'h1', type: 'purchase', value: null, timestamp: T0 },
      { itemId: 'h2', type: 'purchase', value: null, timestamp: T0 + 1 },
      { itemId: 'only-alice', type: 'purchase', value: null, timestamp: T0 + 2 },
    ]);
  });

  it('erases a user from the store, the model and the file, in the request', async () => {
    const { engine, store, path } = await shop();
    expect(fileText(path)).toContain(SECRET_USER);
    const aliceOnlyBefore = engine.similarItems('only-alice', 3);
    expect(aliceOnlyBefore.length).toBeGreaterThan(0);
    expect(await engine.deleteUser(SECRET_USER)).toEqual({ deleted: 3 });
    await expect(engine.exportUser(SECRET_USER)).rejects.toThrow(NotFoundError);
    await expect(engine.profile(SECRET_USER)).rejects.toThrow(NotFoundError);
    expect(await store.userFeedback(SECRET_USER)).toEqual([]);
    // Nowhere in the database file, its WAL or the saved model.
    expect(fileText(path)).not.toContain(SECRET_USER);
    // The item only Alice bought no longer carries her signal: its vector is gone to zero.
    const model = (engine as unknown as { state: ServingState }).state.model!;
    expect(Array.from(model.latent!.itemVector('only-alice')).every((x) => x === 0)).toBe(true);
    // The audit log records the erasure without the id.
    const entry = (await store.auditLog())[0];
    expect(entry.action).toBe('delete-user');
    expect(entry.subject).not.toContain('alice');
    // Her erased id is served as a stranger from now on.
    expect((await engine.recommend(SECRET_USER, { n: 3 })).recommendations).toHaveLength(3);
  });

  it('erases from the file even when the saved model cannot be scrubbed (corrupt): the serving model is saved instead', async () => {
    const { engine, store, path } = await shop();
    const raw = new Database(path);
    raw.prepare('UPDATE models SET bytes = zeroblob(64)').run();
    raw.close();
    expect(await engine.deleteUser(SECRET_USER)).toEqual({ deleted: 3 });
    expect((await engine.health()).warnings.some((w) => w.includes('scrubbing the saved model'))).toBe(true);
    expect(fileText(path)).not.toContain(SECRET_USER);
    const [only, ...older] = await store.latestModels();
    expect(older).toEqual([]);
    expect(engine.model().version).toBe(only.version);
    expect(loadModel(await store.loadModelBytes(only.version)).hasUser(SECRET_USER)).toBe(false);
  });

  it('erases a user again from the model of a retrain that was running when they were erased', async () => {
    // In memory, the training set is read before the fit starts, so the gate below holds a fit
    // whose data still has the user.
    const store = SqliteStore.open(':memory:');
    const real = new Trainer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: FitRunner = {
      fit: async (request, onProgress) => (await gate, real.fit(request, onProgress)),
      scrub: (request) => real.scrub(request),
      prepare: (request) => real.prepare(request),
      close: () => real.close(),
    };
    const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0 }, Date.now, held);
    open.push({ engine, store });
    await engine.upsertItems(SHOP_ITEMS);
    await engine.importFeedback([...shopFeedback(), { userId: SECRET_USER, itemId: 'h1', type: 'purchase', value: null, timestamp: T0 }]);
    const training = engine.trainNow();
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await engine.deleteUser(SECRET_USER)).toEqual({ deleted: 1 });
    await training;
    const model = (engine as unknown as { state: ServingState }).state.model!;
    expect(model.hasUser(SECRET_USER)).toBe(false);
    expect(loadModel(await store.loadModelBytes((await store.latestModels())[0].version)).hasUser(SECRET_USER)).toBe(false);
  });

  it('keeps erased users out of a restart', async () => {
    const { engine, store, path } = await shop();
    await engine.deleteUser(SECRET_USER);
    await engine.close();
    await store.close();
    open.length = 0;
    const again = SqliteStore.open(path);
    const reopened = await Engine.open(again, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0 });
    open.push({ engine: reopened, store: again });
    await expect(reopened.profile(SECRET_USER)).rejects.toThrow(NotFoundError);
    expect(reopened.model().status).toBe('ready');
  });

  it('stores salted pseudonyms instead of raw ids when configured', async () => {
    const { engine, store, path } = await shop({ pseudonymSalt: 'pepper' });
    expect(fileText(path)).not.toContain(SECRET_USER);
    expect(await store.getUser(SECRET_USER)).toBeNull();
    const profile = await engine.profile(SECRET_USER);
    expect(profile.userId).toBe(SECRET_USER);
    expect(profile.interactions).toBe(3);
    const recs = await engine.addFeedback({ userId: SECRET_USER, itemId: 'a1', type: 'click', value: null, timestamp: T0 + 9 }, 3);
    expect(recs.userId).toBe(SECRET_USER);
    expect(await engine.deleteUser(SECRET_USER)).toEqual({ deleted: 4 });
  });

  it('prunes feedback older than the retention period', async () => {
    const { store } = await shop();
    const received = (await store.userFeedback('hu0'))[0].receivedAt;
    const reopened = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, retentionDays: 30 }, () => received + 31 * 86_400_000);
    open.push({ engine: reopened, store: SqliteStore.open(':memory:') });
    expect(await store.countFeedback()).toBe(0);
    expect((await store.auditLog())[0]).toMatchObject({ action: 'retention-prune', detail: { removed: 219, olderThanDays: 30 } });
    // Pruned before the engine counted popularity: nothing expired ranks the cold-start list.
    expect(reopened.popular({ n: 3 })).toEqual([]);
  });
});
