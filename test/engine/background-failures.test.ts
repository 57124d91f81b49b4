/**
 * Triggers never fail a request or the process: a retrain with nothing to train on is a warning
 * and a metric, a post whose row is committed is answered 2xx, and timers swallow what they meet.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineConfigInput } from '../../src/engine/config.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const open: Array<{ engine: Engine; store: SqliteStore }> = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.close();
    await store.close();
  }
  expect(unhandled).toEqual([]);
});

async function shop(config: EngineConfigInput, path = join(mkdtempSync(join(tmpdir(), 'liverec-')), 'shop.db')) {
  const store = SqliteStore.open(path);
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, ...config });
  open.push({ engine, store });
  await engine.upsertItems(SHOP_ITEMS);
  return { engine, store, path, app: createApp(engine) };
}

async function post(app: ReturnType<typeof createApp>, body: unknown) {
  const res = await app.request('/v1/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const click = (u: number, i: number) => ({ userId: `u${u}`, itemId: `h${i}`, type: 'click', timestamp: T0 + u * 100 + i });

describe('nothing to train on', () => {
  it('explicit ALS fed only clicks past retrainEvery: every post is answered 200, /health warns, the skip is counted', async () => {
    const { engine, app } = await shop({ algorithm: 'als', params: { factors: 4, iterations: 3 }, retrainEvery: 3 });
    const skipped: number[] = [];
    engine.observe({ training: (outcome) => outcome === 'skipped' && skipped.push(1) });
    for (let n = 0; n < 8; n++) {
      const res = await post(app, click(n, n));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 1, duplicates: 0, modelVersion: null });
      // Popularity answers: every earlier user's item but the one this user just clicked.
      expect(res.body.recommendations).toHaveLength(n);
    }
    await until(() => engine.model().status !== 'training' && skipped.length > 0);
    expect((await engine.health()).feedback).toBe(8);
    expect((await engine.health()).warnings.some((w) => w.includes('nothing to train on'))).toBe(true);
    expect(engine.model()).toMatchObject({ status: 'empty', version: null });
    // Asked for explicitly, the same job fails with the reason (the CLI's `train` prints it).
    await expect(engine.trainNow()).rejects.toThrow(/nothing to train on/);
  });

  it('a timer retrain with every user quarantined warns and keeps the process up', async () => {
    const { engine, app } = await shop({ floodEventsPerSecond: 1, floodWindowSeconds: 1, retrainMinutes: 0.002 });
    // Live posts at a bot's rate: the user is quarantined, their rows stored.
    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => post(app, { ...click(1, i), userId: 'bot' })));
    for (const res of responses) expect(res.status).toBe(200);
    expect((await engine.stats()).quarantinedUsers).toBe(1);
    await until(async () => (await engine.health()).warnings.some((w) => w.includes('nothing to train on')));
    expect(engine.model().status).not.toBe('ready');
  });

  it('POST /v1/model/train on an empty database answers 400 naming the reason', async () => {
    const { app } = await shop({});
    const res = await app.request('/v1/model/train', { method: 'POST' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ field: 'feedback', message: expect.stringMatching(/^nothing to train on/) });
  });
});

describe('a corrupt newest model', () => {
  it('a timer retrain after the newest model went corrupt trains and serves a new version', async () => {
    const first = await shop({});
    await first.engine.importFeedback(shopFeedback());
    await first.engine.trainNow();
    await first.engine.close();
    await first.store.close();
    open.length = 0;
    const raw = new Database(first.path);
    raw.prepare('UPDATE models SET bytes = zeroblob(16)').run();
    raw.close();
    // Reopened: nothing loads, so it retrains from the log; the timer keeps retraining after new posts.
    const { engine, app } = await shop({ retrainMinutes: 0.002 }, first.path);
    await engine.trainNow();
    expect(engine.model()).toMatchObject({ status: 'ready', version: 2 });
    expect((await post(app, click(3, 3))).status).toBe(200);
    await until(() => (engine.model().version ?? 0) >= 3);
    expect((await engine.recommend('hu0', { n: 1 })).recommendations[0].itemId).toBe('h0');
    expect((await engine.health()).warnings[0]).toMatch(/model version 1 could not be loaded/);
  });
});
