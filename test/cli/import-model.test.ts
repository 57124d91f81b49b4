/**
 * `liverec import-model` over directories laid out as Spark MLlib's ALSModel.save writes them
 * (test/cli/spark-model.ts), with factors small enough to score by hand. The imported model is
 * then served as `serve` serves it (the engine over the database, HTTP in-process).
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineConfig } from '../../src/cli/engine.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { choleskySolveRef } from '../reference/als.ts';
import { cli, tempDir } from './helpers.ts';
import { alsModelMetadata, writeFactors, writeSparkModel, type Factors } from './spark-model.ts';

const tmp = tempDir();

// Rank 2. Item 11 is in no catalog: the feedback below creates items 10, 12 and 13 only.
const ITEMS: Factors = { 10: [1, 0], 11: [0, 1], 12: [1, 0.5], 13: [2, -1] };
const USERS: Factors = { 1: [1, 3], 2: [3, -1], 3: [0.6, 0.2] };
const dot = (u: number[], v: number[]) => u.reduce((s, x, f) => s + x * v[f], 0);

// One timestamp for every event, so no signal decays: a purchase counts 8 (its weight × log2(1 + 1)),
// a view 1. User 1 is Spark's; user 9 is not.
const T = 1_733_000_000_000;
const FEEDBACK = ['userId,itemId,type,value,timestamp', `1,10,purchase,,${T}`, `9,12,purchase,,${T}`, `9,13,purchase,,${T}`].join('\n');

/** Hu–Koren–Volinsky with Spark's weighting: (YᵀY + Σ α|v| y yᵀ + λ·n⁺ I) x = Σ_{v>0} (1 + α v) y over every item. */
function implicitFoldIn(history: Record<number, number>, reg: number, alpha: number): number[] {
  const a = new Float64Array(4);
  const b = new Float64Array(2);
  for (const y of Object.values(ITEMS)) for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) a[r * 2 + c] += y[r] * y[c];
  let positives = 0;
  for (const [id, v] of Object.entries(history)) {
    const y = ITEMS[Number(id)];
    positives += v > 0 ? 1 : 0;
    for (let r = 0; r < 2; r++) {
      b[r] += v > 0 ? (1 + alpha * v) * y[r] : 0;
      for (let c = 0; c < 2; c++) a[r * 2 + c] += alpha * Math.abs(v) * y[r] * y[c];
    }
  }
  for (let r = 0; r < 2; r++) a[r * 2 + r] += reg * positives;
  return Array.from(choleskySolveRef(a, b, 2));
}

/** Explicit ALS-WR without biases: (Σ q qᵀ + λ·n I) x = Σ r q over the rated items. */
function explicitFoldIn(ratings: Record<number, number>, reg: number): number[] {
  const a = new Float64Array(4);
  const b = new Float64Array(2);
  const rated = Object.entries(ratings);
  for (const [id, rating] of rated) {
    const q = ITEMS[Number(id)];
    for (let r = 0; r < 2; r++) {
      b[r] += rating * q[r];
      for (let c = 0; c < 2; c++) a[r * 2 + c] += q[r] * q[c];
    }
  }
  for (let r = 0; r < 2; r++) a[r * 2 + r] += reg * rated.length;
  return Array.from(choleskySolveRef(a, b, 2));
}

/** The database served as `liverec serve` serves it, minus the socket. */
async function serving(db: string) {
  const store = SqliteStore.open(db);
  const engine = await Engine.open(store, { ...(await engineConfig(store, {})), retrainEvery: 0, retrainMinutes: 0 });
  const app = createApp(engine);
  const get = async (path: string) => (await app.request(path)).json() as Promise<Record<string, any>>;
  const post = async (body: unknown) =>
    (await app.request('/v1/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;
  return { get, post, close: async () => (await engine.close(), await store.close()) };
}

describe('import-model: an implicit Spark model into a shop with feedback', () => {
  const db = tmp.path('implicit.db');
  const model = writeSparkModel(tmp.path('spark-implicit'), { users: USERS, items: ITEMS });
  let shop: Awaited<ReturnType<typeof serving>>;

  beforeAll(async () => {
    expect((await cli('import', '--db', db, '--feedback', tmp.write('feedback.csv', FEEDBACK + '\n'))).code).toBe(0);
    const imported = await cli('import-model', model, '--db', db, '--implicit', '--reg', '0.1', '--alpha', '2', '--json');
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(imported.stdout)).toMatchObject({
      version: 1,
      algorithm: 'implicit-als',
      params: { factors: 2, reg: 0.1, alpha: 2, weightedReg: true },
      imported: { users: 3, items: 4, usersWithHistory: 1, usersFoldedIn: 1, itemsOutsideCatalog: 1 },
    });
    shop = await serving(db);
  });
  afterAll(() => shop.close());

  it("serves Spark's dot products, best first, for users with no history here", async () => {
    for (const [user, order] of [['2', ['13', '10', '12', '11']], ['3', ['13', '12', '10', '11']]] as const) {
      const { modelVersion, recommendations } = await shop.get(`/v1/users/${user}/recommendations?n=4`);
      expect(modelVersion).toBe(1);
      expect(recommendations.map((r: { itemId: string }) => r.itemId)).toEqual(order);
      for (const r of recommendations) expect(r.score).toBeCloseTo(dot(USERS[Number(user)], ITEMS[Number(r.itemId)]), 5);
    }
  });

  it('keeps an imported vector, leaves out what the user has seen here, and explains from it', async () => {
    const { recommendations } = await shop.get('/v1/users/1/recommendations?n=3&explain=true');
    // Item 10 was bought here; item 11 is in no catalog and is recommended all the same.
    expect(recommendations.map((r: { itemId: string }) => r.itemId)).toEqual(['11', '12', '13']);
    expect(recommendations[0].score).toBeCloseTo(dot(USERS[1], ITEMS[11]), 5);
    for (const r of recommendations) expect(r.because.map((c: { itemId: string }) => c.itemId)).toEqual(['10']);
    expect(recommendations[1].because[0].weight).toBeGreaterThan(0);
  });

  it('folds in a stored user Spark did not know: the closed-form ALS solution against the imported items', async () => {
    const x = implicitFoldIn({ 12: 8, 13: 8 }, 0.1, 2);
    const { recommendations } = await shop.get('/v1/users/9/recommendations?n=2');
    const expected = ['10', '11'].map((itemId) => ({ itemId, score: dot(x, ITEMS[Number(itemId)]) })).sort((p, q) => q.score - p.score);
    expect(recommendations.map((r: { itemId: string }) => r.itemId)).toEqual(expected.map((e) => e.itemId));
    recommendations.forEach((r: { score: number }, t: number) => expect(r.score).toBeCloseTo(expected[t].score, 4));
  });

  it("folds a new user's live feedback in with Spark's reg × positives and alpha", async () => {
    await shop.post({ userId: 'newcomer', itemId: '10', type: 'purchase', timestamp: T });
    const answer = await shop.post({ userId: 'newcomer', itemId: '11', type: 'view', timestamp: T });
    const x = implicitFoldIn({ 10: 8, 11: 1 }, 0.1, 2);
    const scores = answer.recommendations.map((r: { itemId: string; score: number }) => [r.itemId, r.score]);
    expect(scores.map(([itemId]: [string]) => itemId).sort()).toEqual(['12', '13']);
    for (const [itemId, score] of scores) expect(score).toBeCloseTo(dot(x, ITEMS[Number(itemId)]), 4);
    expect(scores[0][1]).toBeGreaterThanOrEqual(scores[1][1]);
  });

  it('finds similar items by the cosine of the imported vectors', async () => {
    const { similar } = await shop.get('/v1/items/12/similar?n=3');
    // cos(12, ·): 10 → 1/√1.25 ≈ 0.894, 13 → 1.5/2.5 = 0.6, 11 → 0.5/√1.25 ≈ 0.447.
    expect(similar.map((s: { itemId: string }) => s.itemId)).toEqual(['10', '13', '11']);
    expect(similar[1].score).toBeCloseTo(0.6, 5);
  });
});

describe('import-model: an explicit model, training params from the metadata', () => {
  it('becomes als without biases; a new rater folds in to the closed-form ALS-WR solution', async () => {
    const db = tmp.path('explicit.db');
    const metadata = { ...alsModelMetadata(2), class: 'org.apache.spark.ml.recommendation.ALS', paramMap: { implicitPrefs: false, regParam: 0.05, maxIter: 12 } };
    const model = writeSparkModel(tmp.path('spark-explicit'), { users: USERS, items: ITEMS, rowsPerPart: 3, metadata });
    const imported = await cli('import-model', model, '--db', db, '--create', '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ algorithm: 'als', params: { factors: 2, reg: 0.05, biases: false, iterations: 12 } });
    const shop = await serving(db);
    try {
      await shop.post({ userId: 'rater', itemId: '10', type: 'rating', value: 4, timestamp: T });
      const answer = await shop.post({ userId: 'rater', itemId: '13', type: 'rating', value: 2, timestamp: T });
      const x = explicitFoldIn({ 10: 4, 13: 2 }, 0.05);
      for (const r of answer.recommendations) expect(r.score).toBeCloseTo(dot(x, ITEMS[Number(r.itemId)]), 4);
      expect(answer.recommendations.map((r: { itemId: string }) => r.itemId).sort()).toEqual(['11', '12']);
      const { recommendations } = await shop.get('/v1/users/2/recommendations?n=1');
      expect(recommendations).toEqual([{ itemId: '13', score: expect.closeTo(7, 5) }]);
    } finally {
      await shop.close();
    }
  });
});

describe('import-model: pseudonymous ids and the legacy list layout', () => {
  it("stores user ids as the salted server does, and reads Spark's legacy lists", async () => {
    const db = tmp.path('salted.db');
    const config = tmp.write('salted.json', JSON.stringify({ engine: { pseudonymSalt: 'a-salt-of-twenty-chars' } }));
    const model = writeSparkModel(tmp.path('spark-legacy'), { users: USERS, items: ITEMS, lists: 'legacy' });
    expect((await cli('import-model', model, '--db', db, '--create', '--implicit', '--config', config)).code).toBe(0);
    const store = SqliteStore.open(db);
    const engine = await Engine.open(store, { ...(await engineConfig(store, { pseudonymSalt: 'a-salt-of-twenty-chars' })), retrainEvery: 0, retrainMinutes: 0 });
    try {
      const { recommendations } = await engine.recommend('2', { n: 1 });
      expect(recommendations).toEqual([{ itemId: '13', score: expect.closeTo(7, 5) }]);
      expect(engine.servingModel?.hasUser('2')).toBe(false); // the model holds the pseudonym, never the raw id
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe('import-model refuses what it cannot serve, naming the problem, and stores nothing', () => {
  const db = tmp.path('refusals.db');
  const broken = (name: string, fixture: { users?: Factors; items?: Factors } = {}) =>
    writeSparkModel(tmp.path(name), { users: fixture.users ?? USERS, items: fixture.items ?? ITEMS });

  beforeAll(async () => {
    expect((await cli('import', '--db', db, '--feedback', tmp.write('refusals.csv', FEEDBACK + '\n'))).code).toBe(0);
  });

  it.each([
    ['a missing directory', () => tmp.path('no-such-model'), /no-such-model: no such directory/],
    ['no itemFactors', () => {
      const dir = tmp.path('users-only');
      writeFactors(join(dir, 'userFactors'), USERS, 2);
      return dir;
    }, /itemFactors: missing/],
    ['ranks that differ between the sides', () => broken('ranks', { items: { ...ITEMS, 13: [2, -1, 0] } }), /mismatched ranks: id 13 has 3 features where earlier rows have 2/],
    ['a non-finite value', () => broken('nan', { users: { ...USERS, 2: [Number.NaN, 1] } }), /id 2: features must be finite numbers/],
    ['an empty part file', () => {
      const dir = broken('empty-part');
      writeFileSync(join(dir, 'itemFactors', 'part-00009-c000.snappy.parquet'), '');
      return dir;
    }, /part-00009-c000\.snappy\.parquet: not a readable Parquet file/],
    ['a side whose part files hold no rows', () => {
      const dir = tmp.path('no-rows');
      writeFactors(join(dir, 'userFactors'), {}, 2);
      writeFactors(join(dir, 'itemFactors'), ITEMS, 2);
      return dir;
    }, /userFactors: the part files hold no rows/],
    ['a factor directory without part files', () => {
      const dir = broken('no-parts');
      for (const name of readdirSync(join(dir, 'itemFactors'))) if (name.endsWith('.parquet')) rmSync(join(dir, 'itemFactors', name));
      return dir;
    }, /itemFactors: no Parquet part files/],
  ])('%s', async (_, make, message) => {
    const result = await cli('import-model', make(), '--db', db, '--implicit');
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
    expect(result.stderr).toMatch(/^liverec: [^\n]+\n$/);
    const store = SqliteStore.open(db);
    expect(await store.latestModels()).toEqual([]);
    await store.close();
  });

  it('asks whether the model is implicit when its metadata does not say (an ALSModel records only its rank)', async () => {
    const result = await cli('import-model', broken('unsaid'), '--db', db);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/does not record implicitPrefs.*pass --implicit .* else --explicit/) });
  });

  it('describes itself in --help: the layout, the id mapping and its flags', async () => {
    const { stdout } = await cli('import-model', '--help');
    const text = stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/userFactors\/, itemFactors\/ \(Parquet\)/);
    expect(text).toMatch(/user 42 is "42"/);
    for (const flag of ['--db', '--implicit', '--explicit', '--reg', '--alpha', '--config']) expect(stdout).toContain(flag);
  });
});
