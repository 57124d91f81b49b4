/**
 * The living profile on real data: a new user who rates horror films five stars on
 * ml-latest-small sees horror in their list after a few posts, and the short history's blend
 * says so in `because`. Model trained once with the engine's defaults.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movieLensMovies, movieLensRatings } from '../../src/cli/import-sources.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { ScoredItem } from '../../src/engine/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { FeedbackInput, ItemInput } from '../../src/store/types.ts';

const DATA = new URL('../../data/ml-latest-small/', import.meta.url).pathname;
const NOW = Date.UTC(2026, 0, 1);

function values<T>(rows: Iterable<{ value: T } | { reason: string }>): T[] {
  return [...rows].map((r) => ('value' in r ? r.value : expect.unreachable(r.reason)));
}

const movies = values<ItemInput>(movieLensMovies(join(DATA, 'movies.csv')));
const genres = new Map(movies.map((m) => [m.itemId, m.categories ?? []]));
const isHorror = (r: ScoredItem) => genres.get(r.itemId)!.includes('Horror');

let store: SqliteStore;
let engine: Engine;
/** The eight most-rated films whose only genre is Horror (The Shining, Halloween, Nosferatu…). */
let horrorOnly: string[];

beforeAll(async () => {
  const ratings = values<FeedbackInput>(movieLensRatings(join(DATA, 'ratings.csv'), NOW));
  const raters = new Map<string, number>();
  for (const r of ratings) raters.set(r.itemId, (raters.get(r.itemId) ?? 0) + 1);
  horrorOnly = movies
    .filter((m) => m.categories?.length === 1 && m.categories[0] === 'Horror')
    .sort((a, b) => raters.get(b.itemId)! - raters.get(a.itemId)! || (a.itemId < b.itemId ? -1 : 1))
    .slice(0, 8)
    .map((m) => m.itemId);
  store = SqliteStore.open(':memory:');
  engine = await Engine.open(store, { retrainMinutes: 0, retrainEvery: 0 }, () => NOW);
  await engine.upsertItems(movies);
  await engine.importFeedback(ratings);
  await engine.trainNow();
}, 120_000);

afterAll(async () => {
  await engine.close();
  await store.close();
});

const rate = (userId: string, itemId: string) => engine.addFeedback({ userId, itemId, type: 'rating', value: 5, timestamp: NOW }, 10);

describe('a new horror fan on ml-latest-small', () => {
  it('gets at least 3 horror films in the top 10 after 8 five-star horror ratings, and the blend explains it', async () => {
    expect(horrorOnly).toHaveLength(8);
    let answer;
    for (const itemId of horrorOnly) answer = await rate('fan', itemId);
    const top = answer!.recommendations;
    expect(top).toHaveLength(10);
    expect(top.filter(isHorror).length).toBeGreaterThanOrEqual(3);
    expect(top.some((r) => horrorOnly.includes(r.itemId))).toBe(false);

    const explained = (await engine.recommend('fan', { n: 10, explain: true })).recommendations;
    expect(explained.map((r) => r.itemId)).toEqual(top.map((r) => r.itemId));
    // 8 items of the 20 from which the model ranks alone: the categories still carry part of each horror film's score.
    for (const r of explained.filter(isHorror)) expect(r.because).toContainEqual({ category: 'Horror', weight: expect.any(Number) });
    expect((await engine.profile('fan')).topCategories[0]).toEqual({ category: 'Horror', weight: 1 });
  });

  it("moves the list with each post: one horror rating already leans it toward horror, more than the model's list alone", async () => {
    const answer = await rate('newcomer', horrorOnly[0]);
    const blended = answer.recommendations.filter(isHorror).length;
    const modelOnly = engine.servingModel!.recommend('newcomer', { n: 10 }).filter((r) => isHorror(r)).length;
    expect(blended).toBeGreaterThan(modelOnly);
    expect(blended).toBeGreaterThanOrEqual(8);
  });
});
