/**
 * The path a real shop takes, over HTTP against the real engine: the whole catalog upserted first
 * (most items never rated), then years of history backfilled in arrays of 5,000 while background
 * retrains run, then a retrain. Every request must succeed, nobody may be quarantined for the
 * backfill's pace, and the model must cover everyone and everything, as after `liverec import`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movieLensMovies, movieLensRatings } from '../../src/cli/import-sources.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { FeedbackInput, ItemInput } from '../../src/store/types.ts';

const DATA = new URL('../../data/ml-latest-small/', import.meta.url).pathname;
const BATCH = 5_000;

function values<T>(rows: Iterable<{ value: T } | { reason: string }>): T[] {
  return [...rows].map((r) => ('value' in r ? r.value : expect.unreachable(r.reason)));
}

let dir: string;
let store: SqliteStore;
let engine: Engine;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'liverec-backfill-'));
  store = SqliteStore.open(join(dir, 'shop.db'));
  // Default settings but the timer: a retrain starts every 10,000 events while the backfill runs.
  engine = await Engine.open(store, { retrainMinutes: 0, params: { factors: 16, iterations: 4 } });
  app = createApp(engine);
});

afterAll(async () => {
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('backfilling ml-latest-small over HTTP', () => {
  it('stores every rating, quarantines nobody, and trains on all 610 users and 100,836 ratings', async () => {
    const movies = values<ItemInput>(movieLensMovies(join(DATA, 'movies.csv')));
    const ratings = values<FeedbackInput>(movieLensRatings(join(DATA, 'ratings.csv'), Date.now()));
    expect(movies).toHaveLength(9_742);
    expect(ratings).toHaveLength(100_836);

    for (let start = 0; start < movies.length; start += BATCH) {
      expect((await post('/v1/items', movies.slice(start, start + BATCH))).status).toBe(200);
    }
    let accepted = 0;
    for (let start = 0; start < ratings.length; start += BATCH) {
      const res = await post('/v1/feedback', ratings.slice(start, start + BATCH));
      expect(res.status).toBe(200);
      accepted += res.body.accepted as number;
    }
    expect(accepted).toBe(100_836);
    expect((await engine.stats()).quarantinedUsers).toBe(0);
    // User 414 rated 2,698 movies: the heaviest backfilled history, and no flood.
    expect((await engine.profile('414')).flags).toEqual([]);

    const info = await engine.trainNow();
    expect(info.metrics).toMatchObject({ users: 610, items: 9_724, interactions: 100_836 });
    expect((await engine.health()).warnings).toEqual([]);
    // A backfilled user is served from the model, with explanations from their own history.
    const recs = await engine.recommend('414', { n: 5, explain: true });
    expect(recs.modelVersion).toBe(info.version);
    expect(recs.recommendations).toHaveLength(5);
    for (const r of recs.recommendations) expect(r.because!.length).toBeGreaterThan(0);
    // Every movie of the catalog is recommendable: the 18 never rated got vectors from their genres.
    const unrated = movies.filter((m) => m.categories!.length > 0 && !ratings.some((r) => r.itemId === m.itemId));
    expect(unrated.length).toBeGreaterThan(0);
    const model = (engine as unknown as { state: { model: { hasItem(id: string): boolean } } }).state.model;
    for (const m of unrated) expect(model.hasItem(m.itemId)).toBe(true);
  }, 120_000);
});
