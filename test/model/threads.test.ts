import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Interactions, type Interaction } from '../../src/data/interactions.ts';
import { Rng } from '../../src/data/rng.ts';
import { Als, ImplicitAls, ItemKnn, Svd, loadModel } from '../../src/model/index.ts';
import { decodeModel } from '../../src/model/format.ts';
import { Core } from '../../src/wasm/core.ts';
import { CorePool, shareRows, splitRows } from '../../src/wasm/pool.ts';

/** Power-law users and items (a few heavy rows, a long tail), seeded. */
function powerLaw(seed: number, users: number, items: number, n: number, explicit: boolean): Interactions {
  const rng = new Rng(seed);
  const pick = (size: number) => Math.floor(size * rng.next() ** 2.5);
  const rows: Interaction[] = [];
  for (let t = 0; t < n; t++) {
    rows.push({
      userId: `u${pick(users)}`,
      itemId: `i${pick(items)}`,
      value: explicit ? 1 + rng.int(5) : 1 + rng.int(3),
    });
  }
  return Interactions.from(rows, explicit ? 'last' : 'sum');
}

/** Every array of the saved models (factors, biases, neighbour lists), byte for byte. */
function expectSameArrays(a: Uint8Array, b: Uint8Array): void {
  const x = decodeModel(a);
  const y = decodeModel(b);
  expect(Object.keys(y.arrays).sort()).toEqual(Object.keys(x.arrays).sort());
  for (const [name, arr] of Object.entries(x.arrays)) {
    const other = y.arrays[name];
    expect(other.length, name).toBe(arr.length);
    expect(Buffer.from(other.buffer, other.byteOffset, other.byteLength).equals(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength)), name).toBe(true);
  }
  expect(y.scalars).toEqual(x.scalars);
}

const explicitData = powerLaw(1, 400, 300, 9000, true);
const implicitData = powerLaw(2, 400, 300, 9000, false);

describe('threaded training is bit-identical to one thread', () => {
  describe.each([5, 64])('k = %i', (k) => {
    it('explicit ALS', async () => {
      const params = { factors: k, iterations: 3, seed: 7 };
      const one = new Als(params).fit(explicitData).save();
      expectSameArrays(one, (await new Als({ ...params, threads: 2 }).fitAsync(explicitData)).save());
      expectSameArrays(one, (await new Als({ ...params, threads: 3 }).fitAsync(explicitData)).save());
      expectSameArrays(one, new Als({ ...params, threads: 2 }).fit(explicitData).save());
    });

    it('implicit ALS (conjugate gradient)', async () => {
      const params = { factors: k, iterations: 3, seed: 7 };
      const one = new ImplicitAls(params).fit(implicitData).save();
      expectSameArrays(one, (await new ImplicitAls({ ...params, threads: 2 }).fitAsync(implicitData)).save());
      expectSameArrays(one, (await new ImplicitAls({ ...params, threads: 3 }).fitAsync(implicitData)).save());
    });

    it('implicit ALS (Cholesky)', async () => {
      const params = { factors: k, iterations: 2, cgSteps: 0, seed: 7 };
      const one = new ImplicitAls(params).fit(implicitData).save();
      expectSameArrays(one, (await new ImplicitAls({ ...params, threads: 2 }).fitAsync(implicitData)).save());
    });

    it('item-kNN', async () => {
      const params = { neighbors: k, shrink: 2 };
      const one = new ItemKnn(params).fit(implicitData).save();
      expectSameArrays(one, (await new ItemKnn({ ...params, threads: 2 }).fitAsync(implicitData)).save());
      expectSameArrays(one, (await new ItemKnn({ ...params, threads: 3 }).fitAsync(implicitData)).save());
    });
  });

  it('fitAsync with threads 1 is fit', async () => {
    const a = new ImplicitAls({ factors: 8, iterations: 2 }).fit(implicitData).save();
    const b = (await new ImplicitAls({ factors: 8, iterations: 2 }).fitAsync(implicitData)).save();
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
  });

  it('fitAsync reports progress after each step every thread finished, as fit does', async () => {
    const counts = async (fit: (onProgress: (p: { done: number; total: number }) => void) => Promise<unknown>) => {
      const reports: string[] = [];
      await fit((p) => reports.push(`${p.done}/${p.total}`));
      return reports;
    };
    const steps = (total: number) => Array.from({ length: total + 1 }, (_, done) => `${done}/${total}`);
    expect(await counts((onProgress) => new ImplicitAls({ factors: 4, iterations: 3, threads: 2 }).fitAsync(implicitData, { onProgress }))).toEqual(steps(6));
    expect(await counts((onProgress) => new Svd({ factors: 4, iterations: 2, threads: 3 }).fitAsync(explicitData, { onProgress }))).toEqual(steps(6));
    // Threaded item-kNN is one step (all items dealt at once); on one thread, 16 chunks.
    expect(await counts((onProgress) => new ItemKnn({ threads: 2 }).fitAsync(implicitData, { onProgress }))).toEqual(steps(1));
    expect(await counts(async (onProgress) => new ItemKnn().fit(implicitData, { onProgress }))).toEqual(steps(16));
  });
});

describe('threaded SGD (blocked schedule)', () => {
  /** Rank-3 ratings plus a little noise, 30% observed; every 10th observed cell held out. */
  function lowRank(seed: number) {
    const rng = new Rng(seed);
    const U = 300;
    const I = 200;
    const r = 3;
    const p = Array.from({ length: U * r }, () => rng.normal());
    const q = Array.from({ length: I * r }, () => rng.normal());
    const train: Interaction[] = [];
    const test: Interaction[] = [];
    for (let u = 0; u < U; u++) {
      for (let i = 0; i < I; i++) {
        if (rng.next() > 0.3) continue;
        let v = 3 + 0.1 * rng.normal();
        for (let f = 0; f < r; f++) v += 0.5 * p[u * r + f] * q[i * r + f];
        (rng.next() < 0.1 ? test : train).push({ userId: `u${u}`, itemId: `i${i}`, value: v });
      }
    }
    return { train: Interactions.from(train), test };
  }

  const { train, test } = lowRank(3);
  const params = { factors: 8, iterations: 60, learningRate: 0.01, reg: 0.02, initStd: 0.1, seed: 11 };

  function rmse(model: Svd, rows: Interaction[]): number {
    let s = 0;
    for (const x of rows) s += (model.predictOrFallback(x.userId, x.itemId) - x.value) ** 2;
    return Math.sqrt(s / rows.length);
  }

  const trainRows = (data: Interactions) =>
    Array.from(data.values, (value, t) => ({ userId: data.users.id(data.userIdx[t]), itemId: data.items.id(data.itemIdx[t]), value }));

  it('reaches the single-thread RMSE within 1% (train and held out)', async () => {
    const one = new Svd(params).fit(train);
    const two = await new Svd({ ...params, threads: 2 }).fitAsync(train);
    const rows = trainRows(train);
    const [a, b] = [rmse(one, rows), rmse(two, rows)];
    expect(a).toBeLessThan(0.5); // it did learn the structure (ratings spread ≈ 1.2)
    expect(Math.abs(b - a) / a).toBeLessThan(0.01);
    const [c, d] = [rmse(one, test), rmse(two, test)];
    expect(Math.abs(d - c) / c).toBeLessThan(0.01);
  });

  it('is deterministic per seed, and fit runs the same schedule as fitAsync', async () => {
    const a = (await new Svd({ ...params, iterations: 5, threads: 2 }).fitAsync(train)).save();
    const b = (await new Svd({ ...params, iterations: 5, threads: 2 }).fitAsync(train)).save();
    const c = new Svd({ ...params, iterations: 5, threads: 2 }).fit(train).save();
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
    const other = (await new Svd({ ...params, iterations: 5, threads: 2, seed: 12 }).fitAsync(train)).save();
    expect(Buffer.from(other).equals(Buffer.from(a))).toBe(false);
  });

  it('a diverging threaded fit rejects and leaves the model unfitted', async () => {
    const model = new Svd({ ...params, iterations: 20, learningRate: 50, threads: 2 });
    await expect(model.fitAsync(train)).rejects.toThrow(/diverged/);
    expect(() => model.recommend('u0')).toThrow(/not fitted/);
  });

  it('threads 1 keeps the classic single shuffled pass', async () => {
    const a = new Svd({ ...params, iterations: 3 }).fit(train).save();
    const b = (await new Svd({ ...params, iterations: 3, threads: 1 }).fitAsync(train)).save();
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
  });
});

describe('a model fitted with threads 2', () => {
  it.each([
    ['implicit-als', () => new ImplicitAls({ factors: 16, iterations: 3, threads: 2 }), implicitData],
    ['als', () => new Als({ factors: 16, iterations: 3, threads: 2 }), explicitData],
    ['svd', () => new Svd({ factors: 16, iterations: 5, threads: 2 }), explicitData],
    ['item-knn', () => new ItemKnn({ neighbors: 20, threads: 2 }), implicitData],
  ] as const)('%s saves, loads and recommends like any other', async (_name, make, data) => {
    const model = await make().fitAsync(data);
    const user = data.users.id(0);
    const recs = model.recommend(user, { n: 5 });
    expect(recs).toHaveLength(5);
    const loaded = loadModel(model.save());
    expect(loaded.params.threads).toBe(2);
    expect(loaded.recommend(user, { n: 5 })).toEqual(recs);
    expect(Buffer.from(loaded.save()).equals(Buffer.from(model.save()))).toBe(true);
    const history = [{ itemId: data.items.id(1), value: 1 }, { itemId: data.items.id(2), value: 1 }];
    model.foldInUser('new-user', history);
    expect(model.recommend('new-user', { n: 3 })).toHaveLength(3);
  });
});

describe('CorePool', () => {
  it('runs one call per thread over the shared memory and returns the results', async () => {
    const core = new Core();
    const a = core.putF32([1, 2, 3, 4]);
    const b = core.putF32([5, 6, 7, 8]);
    const pool = new CorePool(core, 3);
    try {
      const results = await pool.run([
        { fn: 'vecDot', args: [a, b, 4] },
        { fn: 'vecDot', args: [a, a, 4] },
        { fn: 'vecDot', args: [b, b, 2] },
      ]);
      expect(results).toEqual([70, 30, 61]);
      // Memory grown after the workers started is visible to them.
      const big = core.allocF32(4 << 20);
      const c = core.putF32([2, 2, 2, 2]);
      expect(big).toBeGreaterThan(0);
      expect(await pool.run([{ fn: 'vecDot', args: [c, c, 4] }, { fn: 'vecDot', args: [c, a, 4] }])).toEqual([16, 20]);
      await expect(pool.run([{ fn: 'vecDot', args: [a, a, 4] }, { fn: 'noSuchKernel', args: [] }])).rejects.toThrow(/noSuchKernel/);
      expect(await pool.run([{ fn: 'vecDot', args: [a, a, 4] }])).toEqual([30]); // still usable
      await expect(pool.run([0, 1, 2, 3].map(() => ({ fn: 'vecDot', args: [a, a, 4] })))).rejects.toThrow(RangeError);
    } finally {
      await pool.close();
    }
    await expect(pool.run([{ fn: 'vecDot', args: [a, a, 4] }])).rejects.toThrow(/closed/);
    await pool.close(); // twice is fine
  });

  it('never keeps a process alive, closed or not', () => {
    const pool = fileURLToPath(new URL('../../src/wasm/pool.ts', import.meta.url));
    const core = fileURLToPath(new URL('../../src/wasm/core.ts', import.meta.url));
    const script = `
      import { CorePool } from ${JSON.stringify(pool)};
      import { Core } from ${JSON.stringify(core)};
      const c = new Core();
      const a = c.putF32([1, 2, 3, 4]);
      const open = new CorePool(c, 2);
      const closed = new CorePool(c, 2);
      const r = await open.run([{ fn: 'vecDot', args: [a, a, 4] }, { fn: 'vecDot', args: [a, a, 4] }]);
      await closed.run([{ fn: 'vecDot', args: [a, a, 4] }, { fn: 'vecDot', args: [a, a, 4] }]);
      await closed.close();
      console.log(r.join(','));`;
    const dir = mkdtempSync(join(tmpdir(), 'liverec-pool-'));
    try {
      const file = join(dir, 'exit.mjs');
      writeFileSync(file, script);
      // A worker keeping the process alive would hang here until the timeout kills it.
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { timeout: 30_000, encoding: 'utf8' });
      expect(out.trim()).toBe('30,30');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits rows by cost, not by count', () => {
    // One heavy row then many light ones: the heavy row gets a range to itself.
    const indptr = [0, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110];
    expect(splitRows(indptr, 2)).toEqual([0, 1, 11]);
    expect(splitRows(indptr, 1)).toEqual([0, 11]);
    expect(splitRows([0, 1, 2, 3, 4], 2)).toEqual([0, 2, 4]);
    expect(splitRows([0, 5], 3)).toEqual([0, 0, 1, 1]);
  });

  it('deals rows out in interleaved chunks covering every row once', () => {
    const indptr = Array.from({ length: 101 }, (_, r) => r * r); // row r has 2r + 1 entries
    const shares = shareRows(indptr, 2, undefined, 4);
    expect(shares).toHaveLength(2);
    const all = shares.flat().sort((a, b) => a[0] - b[0]);
    expect(all[0][0]).toBe(0);
    expect(all.at(-1)![1]).toBe(100);
    for (let c = 1; c < all.length; c++) expect(all[c][0]).toBe(all[c - 1][1]);
    expect(shares[0].length).toBe(4);
    expect(shares[0][0][1]).toBe(shares[1][0][0]); // thread 0 has chunk 0, thread 1 chunk 1, …
    const work = shares.map((own) => own.reduce((s, [a, b]) => s + indptr[b] - indptr[a], 0));
    expect(Math.abs(work[0] - work[1]) / (work[0] + work[1])).toBeLessThan(0.1);
    expect(shareRows(indptr, 1)).toEqual([[[0, 100]]]);
  });
});
