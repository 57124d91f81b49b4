import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { bin, cli, tempDir } from './helpers.ts';

// Item counts in train: a 3, b 3, c 1, d 1, e 1 (first seen in that order, which breaks ties).
const TRAIN = `user,item,value
u1,a,4
u1,b,3
u2,a,5
u2,c,2
u3,a,1
u3,b,2
u3,d,3
u3,e,4
u4,b,5
`;
// u5 is unknown to the model: it counts as zero.
const TEST = `user,item,value
u1,c,5
u1,d,2
u2,b,4
u4,a,3
u5,a,5
`;

const tmp = tempDir();
const train = tmp.write('train.csv', TRAIN);
const test = tmp.write('test.csv', TEST);

describe('eval --algorithm popular (hand-computed)', () => {
  // k = 2, unseen items only: u1 → c, d · u2 → b, d · u4 → a, c · u5 → nothing.
  it('prints exactly the contract keys with the expected values', async () => {
    const { code, stdout, stderr } = await cli('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(json)).toEqual([
      'algorithm', 'params', 'k', 'rmse', 'mae', 'precision', 'recall', 'f1', 'ndcg', 'map', 'hit_rate',
      'coverage', 'novelty', 'fit_seconds', 'train_rows', 'test_rows', 'users',
    ]);
    expect(json).toMatchObject({ algorithm: 'popular', params: { seed: 42 }, k: 2, rmse: null, mae: null });
    expect(json).toMatchObject({ train_rows: 9, test_rows: 5, users: 4 });
    // Hits per user: u1 2 of 2, u2 1 of 1, u4 1 of 1, u5 0 of 1.
    expect(json.precision).toBeCloseTo((1 + 0.5 + 0.5 + 0) / 4, 12);
    expect(json.recall).toBeCloseTo(3 / 4, 12);
    expect(json.f1).toBeCloseTo((2 * 0.5 * 0.75) / 1.25, 12);
    expect(json.ndcg).toBeCloseTo(3 / 4, 12);
    expect(json.map).toBeCloseTo(3 / 4, 12);
    expect(json.hit_rate).toBeCloseTo(3 / 4, 12);
    expect(json.coverage).toBeCloseTo(4 / 5, 12); // a, b, c, d shown; e never
    // Popularity ranks: a, b → 1; c, d, e → 3. Slots: c d b d a c → 3+3+1+3+1+3.
    expect(json.novelty).toBeCloseTo(14 / 6, 12);
    expect(json.fit_seconds).toBeGreaterThanOrEqual(0);
  });

  it('--record stores the metrics in a database for the dashboard', async () => {
    const db = tmp.path('record.db');
    const { code } = await cli('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2', '--record', db);
    expect(code).toBe(0);
    const store = SqliteStore.open(db);
    const [entry] = await store.evaluations();
    await store.close();
    expect(entry.kind).toBe('eval');
    expect(entry.summary).toMatchObject({ split: 'files', algorithm: 'popular', k: 2, train_rows: 9, test_rows: 5 });
    expect(entry.summary.precision).toBeCloseTo(0.5, 12);
  });

  it('--relevant-min drops low test values from the relevant sets', async () => {
    const { stdout } = await cli('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2', '--relevant-min', '3', '--json');
    const json = JSON.parse(stdout);
    // u1's relevant set is {c} (d was rated 2): 1 hit of 2 slots, full recall.
    expect(json.precision).toBeCloseTo((0.5 + 0.5 + 0.5 + 0) / 4, 12);
    expect(json.recall).toBeCloseTo(3 / 4, 12);
    expect(json.map).toBeCloseTo(3 / 4, 12);
  });

  it('prints an aligned table without --json', async () => {
    const { stdout } = await cli('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2');
    expect(stdout).toMatch(/^precision@2 +0\.5000$/m);
    expect(stdout).toMatch(/^rmse +—$/m);
    const valueColumn = new Set(stdout.trim().split('\n').map((line) => line.search(/(?<=\S {2,})\S/)));
    expect(valueColumn.size).toBe(1);
  });
});

describe('eval --dump', () => {
  it('writes one prediction per test row and k recommendations per known test user (svd)', async () => {
    const dir = tmp.path('dump-svd');
    const { code, stdout } = await cli('eval', '--train', train, '--test', test, '--algorithm', 'svd', '--factors', '4', '--k', '2', '--dump', dir, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.rmse).toBeGreaterThan(0);
    expect(json.mae).toBeGreaterThan(0);
    expect(json.params.factors).toBe(4);

    const predictions = readFileSync(`${dir}/predictions.csv`, 'utf8').trim().split('\n');
    expect(predictions[0]).toBe('user,item,actual,predicted');
    expect(predictions).toHaveLength(1 + 5);
    // The unknown user still gets a number: the fallback, never a blank.
    for (const line of predictions.slice(1)) expect(Number.isFinite(Number(line.split(',')[3]))).toBe(true);
    expect(predictions[5]).toMatch(/^u5,a,5,/);

    const recs = readFileSync(`${dir}/recommendations.csv`, 'utf8').trim().split('\n');
    expect(recs[0]).toBe('user,rank,item,score');
    expect(recs.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual(['u1,1', 'u1,2', 'u2,1', 'u2,2', 'u4,1', 'u4,2']);
  });

  it('writes no predictions.csv for implicit algorithms', async () => {
    const dir = tmp.path('dump-popular');
    await cli('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2', '--dump', dir);
    expect(readFileSync(`${dir}/recommendations.csv`, 'utf8')).toBe('user,rank,item,score\nu1,1,c,1\nu1,2,d,1\nu2,1,b,3\nu2,2,d,1\nu4,1,a,3\nu4,2,c,1\n');
    expect(() => readFileSync(`${dir}/predictions.csv`)).toThrow();
  });
});

describe('eval --data --split', () => {
  it('splits with the default fraction and seed', async () => {
    // 8 users × 6 rows.
    const rows = Array.from({ length: 48 }, (_, i) => `u${i % 8},i${(i * 7) % 13},${1 + (i % 5)}`).join('\n');
    const data = tmp.write('data.csv', `user,item,value\n${rows}\n`);
    const split = async (...args: string[]) =>
      JSON.parse((await cli('eval', '--data', data, '--algorithm', 'popular', '--json', '--split', ...args)).stdout);
    expect(await split('random')).toMatchObject({ train_rows: 38, test_rows: 10 }); // round(48 × 0.2)
    expect(await split('stratified')).toMatchObject({ train_rows: 32, test_rows: 16 }); // round(6 × 0.25) = 2 per user
    expect(await split('temporal', '--test-fraction', '0.5')).toMatchObject({ train_rows: 24, test_rows: 24 });
    expect(await split('leave-last', '--leave-n', '3')).toMatchObject({ train_rows: 24, test_rows: 24 });
  });
});

describe('eval errors: exit 1 and one line naming the problem', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown algorithm', ['--train', train, '--test', test, '--algorithm', 'foo'], /--algorithm.*'foo' is invalid/],
    ['unknown flag', ['--train', train, '--test', test, '--algorithm', 'svd', '--bogus'], /unknown option '--bogus'/],
    ['missing file', ['--train', tmp.path('missing.csv'), '--test', test, '--algorithm', 'svd'], /cannot read .*missing\.csv: no such file/],
    ['a directory', ['--train', tmp.dir, '--test', test, '--algorithm', 'svd'], /not a regular file/],
    ['param the algorithm does not take', ['--train', train, '--test', test, '--algorithm', 'svd', '--alpha', '3'], /alpha/],
    ['bad number', ['--train', train, '--test', test, '--algorithm', 'svd', '--k', 'ten'], /--k.*'ten' is invalid/],
    ['both inputs', ['--data', train, '--split', 'random', '--train', train, '--test', test, '--algorithm', 'svd'], /not both/],
    ['no input', ['--algorithm', 'svd'], /--train FILE and --test FILE/],
    ['bad header', ['--train', tmp.write('bad.csv', 'a,b\n1,2\n'), '--test', test, '--algorithm', 'svd'], /bad\.csv line 1: unknown header/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await cli('eval', ...args);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^liverec: [^\n]+\n$/);
  });
});

describe('bin/liverec.mjs', () => {
  it('runs eval end to end with the JSON object on the last stdout line', () => {
    const { code, stdout } = bin('eval', '--train', train, '--test', test, '--algorithm', 'popular', '--k', '2', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!).precision).toBeCloseTo(0.5, 12);
  });

  it('exits 1 with one line for an unknown algorithm', () => {
    const { code, stderr } = bin('eval', '--train', train, '--test', test, '--algorithm', 'nope');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^liverec: option '--algorithm <name>' argument 'nope' is invalid[^\n]*\n$/);
  });
});
