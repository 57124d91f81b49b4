import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.ts';
import { Interactions, type Interaction } from '../../src/data/interactions.ts';
import { Rng } from '../../src/data/rng.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { easePlan, invertSpd } from '../../src/model/ease-fit.ts';
import { decodeModel } from '../../src/model/format.ts';
import { Ease, loadModel, loadModelInSlices } from '../../src/model/index.ts';
import { Core } from '../../src/wasm/core.ts';
import { easeStride } from '../../src/wasm/ease.ts';
import { runInline } from '../../src/wasm/pool.ts';

/** The plain reference: B from a float64 Gauss–Jordan inverse of XᵀX + λI, row-major n×n. */
function referenceB(data: Interactions, lambda: number): Float64Array {
  const n = data.items.size;
  const G = new Float64Array(n * n);
  const rows = data.byUser();
  for (let u = 0; u < rows.rows; u++) {
    for (let p = rows.indptr[u]; p < rows.indptr[u + 1]; p++) {
      for (let q = rows.indptr[u]; q < rows.indptr[u + 1]; q++) G[rows.indices[p] * n + rows.indices[q]] += rows.values[p] * rows.values[q];
    }
  }
  for (let i = 0; i < n; i++) G[i * n + i] += lambda;
  const P = inverse(G, n);
  return Float64Array.from(P, (_, k) => {
    const i = Math.floor(k / n);
    const j = k % n;
    return i === j ? 0 : -P[k] / P[j * n + j];
  });
}

/** Gauss–Jordan inverse in float64 (no pivoting: the inputs here are positive definite). */
function inverse(M: Float64Array, n: number): Float64Array {
  const a = M.slice();
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const pivot = a[c * n + c];
    for (let j = 0; j < n; j++) {
      a[c * n + j] /= pivot;
      inv[c * n + j] /= pivot;
    }
    for (let r = 0; r < n; r++) {
      const f = a[r * n + c];
      if (r === c || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j] -= f * a[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}

/** The model's B as an n×n row-major array (the file stores rows of its padded stride). */
function modelB(model: Ease): Float32Array {
  const state = decodeModel(model.save());
  const n = state.items.length;
  const stride = state.scalars.stride;
  return Float32Array.from({ length: n * n }, (_, k) => state.arrays.B[Math.floor(k / n) * stride + (k % n)]);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

/** Power-law users and items, weight 1 (or small counts), seeded. */
function powerLaw(seed: number, users: number, items: number, draws: number, counts = false): Interaction[] {
  const rng = new Rng(seed);
  const rows: Interaction[] = [];
  for (let t = 0; t < draws; t++) {
    rows.push({ userId: `u${Math.floor(users * rng.next() ** 2)}`, itemId: `i${Math.floor(items * rng.next() ** 1.5)}`, value: counts ? 1 + rng.int(3) : 1 });
  }
  return rows;
}

describe('ease: closed form', () => {
  // X (users × items) = [[1,1,0],[0,1,1],[1,1,1]], λ = 1: XᵀX + I = [[3,2,1],[2,4,2],[1,2,3]],
  // whose inverse is [[.5,−.25,0],[−.25,.5,−.25],[0,−.25,.5]], so B_ij = −P_ij/P_jj is
  // [[0,.5,0],[.5,0,.5],[0,.5,0]].
  const rows = [['a', 0], ['a', 1], ['b', 1], ['b', 2], ['c', 0], ['c', 1], ['c', 2]].map(([u, i]) => ({ userId: `${u}`, itemId: `i${i}`, value: 1 }));
  const model = new Ease({ lambda: 1 }).fit(Interactions.from(rows, 'sum'));

  it('computes B by hand on 3 users × 3 items', () => {
    expect(maxDiff(modelB(model), [0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0])).toBeLessThan(1e-6);
  });

  it('scores a history as x·B and explains a score exactly by x_j·B_ji', () => {
    // User a = [1, 1, 0]: x·B = [.5, .5, .5]; i2 scores .5, all of it from i1.
    expect(model.predict('a', 'i2')).toBeCloseTo(0.5, 6);
    expect(model.recommend('a', { n: 3 })).toEqual([{ itemId: 'i2', score: expect.closeTo(0.5, 6) }]);
    const explanation = model.explain('a', 'i2');
    expect(explanation.score).toBeCloseTo(0.5, 6);
    expect(explanation.contributions).toEqual([{ itemId: 'i1', weight: expect.closeTo(0.5, 6) }]);
  });

  it('matches a float64 reference on power-law data across several pivot blocks (through the items)', () => {
    const data = Interactions.from(powerLaw(1, 700, 420, 16000, true), 'sum');
    expect(data.items.size).toBeGreaterThan(256); // three blocks of 128, and a padded stride
    expect(easePlan(data.byUser(), data.items.size).dual).toBe(false);
    const b = modelB(new Ease({ lambda: 20 }).fit(data));
    expect(maxDiff(b, referenceB(data, 20))).toBeLessThan(1e-4);
  });

  it('matches the same reference through the users (Woodbury) when they are fewer than the items', async () => {
    const data = Interactions.from(powerLaw(4, 150, 900, 9000, true), 'sum');
    expect(data.users.size).toBeGreaterThan(128); // K spans two pivot blocks
    expect(easePlan(data.byUser(), data.items.size).dual).toBe(true);
    const b = modelB(new Ease({ lambda: 20 }).fit(data));
    expect(maxDiff(b, referenceB(data, 20))).toBeLessThan(1e-4);
    const threaded = modelB(await new Ease({ lambda: 20, threads: 2 }).fitAsync(data));
    expect(Buffer.from(threaded.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('ease: the SPD inverse in the core', () => {
  /** Lays out the n×n lower triangle `at(i, j)` (padded with identity rows), inverts, returns −(lower triangle) as full n×n. */
  function invertInCore(n: number, at: (i: number, j: number) => number, threads = 1): Float64Array {
    const core = new Core();
    const stride = easeStride(n);
    const A = core.allocF32(stride * stride);
    const a = core.f32(A, stride * stride);
    for (let i = 0; i < stride; i++) for (let j = 0; j <= i; j++) a[i * stride + j] = i < n ? (j < n ? at(i, j) : 0) : i === j ? 1 : 0;
    runInline(core, invertSpd(core, A, stride, threads));
    const out = core.f32(A, stride * stride);
    return Float64Array.from({ length: n * n }, (_, k) => {
      const i = Math.floor(k / n);
      const j = k % n;
      return -out[Math.max(i, j) * stride + Math.min(i, j)];
    });
  }

  it('inverts the second-difference matrix to its known inverse min(i,j)·(n+1−max(i,j))/(n+1)', () => {
    const n = 300;
    const inv = invertInCore(n, (i, j) => (i === j ? 2 : i === j + 1 ? -1 : 0));
    const known = Float64Array.from({ length: n * n }, (_, k) => {
      const i = Math.floor(k / n) + 1;
      const j = (k % n) + 1;
      return (Math.min(i, j) * (n + 1 - Math.max(i, j))) / (n + 1);
    });
    // Condition number ~4·10⁴ and entries up to 75: f32 keeps about 4 digits.
    expect(maxDiff(inv, known) / 75).toBeLessThan(2e-3);
  });

  it('matches a float64 Gauss–Jordan inverse of a random SPD matrix, the same for any thread count', () => {
    const n = 203;
    const rng = new Rng(5);
    const M = Float64Array.from({ length: n * n }, () => rng.next() - 0.5);
    const S = new Float64Array(n * n); // MᵀM/n + I
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += (M[k * n + i] * M[k * n + j]) / n;
      S[i * n + j] = s;
    }
    const inv = invertInCore(n, (i, j) => S[i * n + j]);
    expect(maxDiff(inv, inverse(S, n))).toBeLessThan(1e-5);
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => invertInCore(4, (i, j) => (i === j ? (i === 2 ? -1 : 1) : 0))).toThrow(/not numerically positive definite.*raise lambda/);
  });
});

describe('ease: threads, erasure, size guard, loading', () => {
  const data = Interactions.from(powerLaw(2, 500, 300, 9000), 'sum');

  it('gives bit-identical B with 1, 2 and 3 threads', async () => {
    const one = modelB(new Ease({ lambda: 50 }).fit(data));
    for (const threads of [2, 3]) {
      const many = modelB(await new Ease({ lambda: 50, threads }).fitAsync(data));
      expect(Buffer.from(many.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    }
  });

  it('erases a user so B equals a fit without their rows (Sherman–Morrison), and nothing of them stays', () => {
    const rows = powerLaw(2, 500, 300, 9000);
    const heavy = [...new Set(rows.map((r) => r.userId))].sort((a, b) => rows.filter((r) => r.userId === b).length - rows.filter((r) => r.userId === a).length)[0];
    const model = new Ease({ lambda: 50 }).fit(Interactions.from(rows, 'sum'));
    const items = IdMap.from(decodeModel(model.save()).items);
    const without = new Ease({ lambda: 50 }).fit(Interactions.from(rows.filter((r) => r.userId !== heavy), 'sum', new IdMap(), items));
    model.forgetUser(heavy);
    expect(model.hasUser(heavy)).toBe(false);
    expect(decodeModel(model.save()).users).not.toContain(heavy);
    expect(maxDiff(modelB(model), modelB(without))).toBeLessThan(1e-4);
    const other = rows.find((r) => r.userId !== heavy)!.userId;
    expect(model.recommend(other, { n: 5 }).map((r) => r.itemId)).toEqual(without.recommend(other, { n: 5 }).map((r) => r.itemId));
  });

  it('refits instead when the downdate would lose its digits in f32 (a user holding much of a small λ model)', () => {
    // u0 alone holds 30 items: with λ = 0.01, 1 − xᵀPx is about 1/(1 + 30/λ).
    const rows: Interaction[] = [
      ...Array.from({ length: 30 }, (_, i) => ({ userId: 'u0', itemId: `solo${i}`, value: 1 })),
      ...powerLaw(3, 40, 20, 300),
    ];
    const items = IdMap.from(Interactions.from(rows, 'sum').items.toArray());
    const model = new Ease({ lambda: 0.01 }).fit(Interactions.from(rows, 'sum', new IdMap(), items));
    const without = new Ease({ lambda: 0.01 }).fit(Interactions.from(rows.filter((r) => r.userId !== 'u0'), 'sum', new IdMap(), items));
    model.forgetUser('u0');
    expect(maxDiff(modelB(model), modelB(without))).toBeLessThan(1e-5);
  });

  it('erases exactly on a model fitted through the users, too', () => {
    const rows = powerLaw(5, 60, 400, 3000);
    const items = IdMap.from(Interactions.from(rows, 'sum').items.toArray());
    const model = new Ease({ lambda: 10 }).fit(Interactions.from(rows, 'sum', new IdMap(), items));
    expect(easePlan(Interactions.from(rows, 'sum').byUser(), items.size).dual).toBe(true);
    const without = new Ease({ lambda: 10 }).fit(Interactions.from(rows.filter((r) => r.userId !== 'u0'), 'sum', new IdMap(), items));
    model.forgetUser('u0');
    expect(maxDiff(modelB(model), modelB(without))).toBeLessThan(1e-4);
  });

  it('leaves B alone when erasing a user who was only folded in', () => {
    const model = new Ease({ lambda: 50 }).fit(data);
    const before = modelB(model);
    model.foldInUser('visitor', [{ itemId: 'i1', value: 1 }, { itemId: 'i2', value: 1 }]);
    model.forgetUser('visitor');
    expect(Buffer.from(modelB(model).buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  it('refuses a catalog above maxItems, naming the alternatives', () => {
    const model = new Ease({ maxItems: 100 });
    expect(() => model.fit(data)).toThrow(InvalidInputError);
    expect(() => model.fit(data)).toThrow(/above maxItems 100.*engine\.algorithm to 'implicit-als' or 'item-knn'/);
    expect(() => new Ease({ maxItems: 40_000 })).toThrow(/maxItems must be at most 30000/);
  });

  it('loads in slices to the same model', async () => {
    const model = new Ease({ lambda: 50 }).fit(data);
    const bytes = model.save();
    const sliced = await loadModelInSlices(bytes);
    expect(Buffer.from(sliced.save()).equals(Buffer.from(bytes))).toBe(true);
    expect(loadModel(bytes).recommend('u1', { n: 5 })).toEqual(model.recommend('u1', { n: 5 }));
  });
});
