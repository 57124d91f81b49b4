import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { cli, tempDir } from './helpers.ts';

/** MovieLens-format ratings, so the same file feeds `tune --data` and `import --ratings`: 30 users in two tastes. */
function ratingsCsv(): string {
  const rng = new Rng(11);
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 30; u++) {
    const items = Int32Array.from({ length: 24 }, (_, i) => i + 1);
    rng.shuffle(items);
    for (const i of items.subarray(0, 10)) {
      const liked = i % 2 === u % 2;
      lines.push(`${u},${i},${liked ? 4 + rng.int(2) : 1 + rng.int(2)},${1_600_000_000 + lines.length}`);
    }
  }
  return lines.join('\n') + '\n';
}

const tmp = tempDir();
const data = tmp.write('ratings.csv', ratingsCsv());
const SVD_SPACE = '{"factors":[2,3,4],"iterations":[3,5,8],"reg":[0.01,0.5]}';
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('tune', () => {
  it('--json reports best, held-out test metrics and trials; test is exactly what eval scores', async () => {
    const { code, stdout, stderr } = await cli('tune', '--data', data, '--algorithm', 'svd', '--split', 'random', '--trials', '3', '--space', SVD_SPACE, '--json');
    expect(code).toBe(0);
    expect(stderr).toMatch(/^tuning svd on rmse \(3 random trials\): fitting on [\d,]+ rows, validating on [\d,]+; [\d,]+ test rows held out\n$/);
    const json = lastJson(stdout);
    expect(Object.keys(json).slice(0, 5)).toEqual(['algorithm', 'metric', 'best', 'test', 'trials']);
    expect(json).toMatchObject({ algorithm: 'svd', metric: 'rmse', search: 'random', seed: 42 });
    expect(json.trials).toHaveLength(3);
    expect(json.best.validation).toBe(Math.min(...json.trials.map((t: { validation: number }) => t.validation)));

    // Same split, seed and params through `eval`: the held-out numbers must match exactly.
    const p = json.best.params;
    const evalFlags = ['--factors', p.factors, '--iterations', p.iterations, '--reg', p.reg, '--learning-rate', p.learningRate, '--seed', p.seed].map(String);
    const evaluated = await cli('eval', '--data', data, '--split', 'random', '--algorithm', 'svd', ...evalFlags, '--json');
    expect(evaluated.code).toBe(0);
    const expected = lastJson(evaluated.stdout);
    expect(json.test).toMatchObject({ train_rows: expected.train_rows, test_rows: expected.test_rows, rmse: expected.rmse, ndcg: expected.ndcg });
    expect(json.split).toMatchObject({ name: 'random', train_rows: expected.train_rows, test_rows: expected.test_rows });
    expect(json.split.fit_rows + json.split.validation_rows).toBe(expected.train_rows);
  });

  it('prints a trial table, the best config and a labelled held-out estimate', async () => {
    const { code, stdout } = await cli('tune', '--data', data, '--algorithm', 'item-knn', '--trials', '2', '--k', '5');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^trial +neighbors +shrink +validation ndcg +fit s$/m);
    expect(stdout).toMatch(/^best \(trial \d, highest validation ndcg [\d.]+\): neighbors=\d+ shrink=\d+ (.* )?seed=42\b/m);
    expect(stdout).toMatch(/^held-out test estimate: the best params refitted on all [\d,]+ train rows, scored once on [\d,]+ test rows$/m);
    expect(stdout).toMatch(/^ndcg@5 +[\d.]+$/m);
  });

  it('grid search runs the whole product', async () => {
    const { stdout } = await cli('tune', '--data', data, '--algorithm', 'item-knn', '--search', 'grid', '--space', '{"neighbors":[5,10,20],"shrink":[0]}', '--json');
    expect(lastJson(stdout).trials.map((t: { params: object }) => t.params)).toEqual([5, 10, 20].map((neighbors) => ({ neighbors, shrink: 0 })));
  });

  it.each([
    [['--space', '{reg:1}'], /^liverec: --space: not valid JSON/],
    [['--space', '{"reg":[]}'], /^liverec: --space: reg must be a non-empty array/],
    [['--space', '{"reg":[1,0.1]}'], /^liverec: --space: reg range \[1, 0.1\] must be \[low, high\]/],
    [['--space', '{"neighbors":[5,10,20]}'], /^liverec: --space: .*neighbors/],
    [['--space', '{"factors":[0,4,8]}'], /^liverec: --space: invalid parameter 'factors'/],
    [['--search', 'grid', '--trials', '5'], /^liverec: --trials: the grid has \d+ points but only 5 trials/],
    [['--metric', 'map', '--validation-fraction', '1'], /--validation-fraction/],
    [['--split', 'leave-last', '--test-fraction', '0.3'], /^liverec: --test-fraction does not apply to the leave-last split/],
  ])('%j fails naming the flag', async (args, message) => {
    const { code, stderr } = await cli('tune', '--data', data, '--algorithm', 'svd', ...args);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses rmse for implicit-als, naming --metric', async () => {
    const { code, stderr } = await cli('tune', '--data', data, '--algorithm', 'implicit-als', '--metric', 'rmse');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^liverec: --metric: metric rmse needs a rating model/);
  });
});

describe('tune --save, then train --params', () => {
  const db = tmp.path('tuned.db');
  const saved = tmp.path('best.json');

  it('trains with the saved algorithm and params; flags override the file', async () => {
    const tuned = await cli('tune', '--data', data, '--algorithm', 'svd', '--trials', '2', '--space', SVD_SPACE, '--save', saved, '--json');
    expect(tuned.code).toBe(0);
    const file = JSON.parse(readFileSync(saved, 'utf8'));
    expect(file).toEqual({ algorithm: 'svd', params: lastJson(tuned.stdout).best.params });

    expect((await cli('import', '--db', db, '--ratings', data)).code).toBe(0);
    const trained = await cli('train', '--db', db, '--params', saved, '--json');
    expect(trained.code).toBe(0);
    const store = SqliteStore.open(db);
    try {
      expect((await store.latestModels())[0]).toMatchObject({ algorithm: 'svd', params: file.params });
    } finally {
      await store.close();
    }

    const overridden = await cli('train', '--db', db, '--params', saved, '--factors', '5', '--json');
    expect(overridden.code).toBe(0);
    expect(JSON.parse(overridden.stdout).params).toEqual({ ...file.params, factors: 5 });
  });

  it.each([
    ['missing.json', null, /^liverec: --params: cannot read .*missing\.json: no such file\n$/],
    ['garbage.json', '{not json', /^liverec: --params: cannot read .*garbage\.json: not valid JSON/],
    ['shape.json', '{"params":{}}', /^liverec: --params: .*shape\.json must be \{"algorithm"/],
    ['algo.json', '{"algorithm":"magic","params":{}}', /^liverec: --params: .*algo\.json names unknown algorithm 'magic'/],
    ['unknown.json', '{"algorithm":"svd","params":{"neighbours":5}}', /^liverec: --params .*unknown\.json: invalid parameter .*neighbours/],
    ['range.json', '{"algorithm":"svd","params":{"factors":0}}', /^liverec: --params .*range\.json: invalid parameter 'factors'/],
  ])('%s: says what is wrong with the file', async (name, text, message) => {
    const path = text === null ? tmp.path(name) : tmp.write(name, text);
    const { code, stderr } = await cli('train', '--db', db, '--params', path);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('refuses an --algorithm other than the file’s', async () => {
    const { code, stderr } = await cli('train', '--db', db, '--params', saved, '--algorithm', 'als');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^liverec: --algorithm als conflicts with --params .*best\.json, which holds svd params/);
  });
});

describe('tune --help', () => {
  it('exits 0 and documents the space syntax', async () => {
    const { code, stdout } = await cli('tune', '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/--space <json>/);
    expect(stdout).toMatch(/log-uniform/);
  });
});
