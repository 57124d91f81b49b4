import { describe, expect, it } from 'vitest';
import { Core } from '../../src/wasm/core.ts';
import {
  alsExplicitSolve, alsImplicitSolveCG, alsImplicitSolveCholesky, alsScratchFloats, choleskySolve, gram, putCsr,
  type Csr,
} from '../../src/wasm/als.ts';
import { Rng } from '../../src/data/rng.ts';
import {
  alsExplicitSolveRef, alsImplicitSolveCGRef, alsImplicitSolveCholeskyRef, alsScratchFloatsRef, choleskySolveRef,
  explicitLoss, gramRef, implicitLoss, type CsrArrays,
} from '../reference/als.ts';

const KS = [1, 3, 4, 5, 64];
const N_USERS = 40;
const N_ITEMS = 30;
const EMPTY_USER = 7;
const EMPTY_ITEM = 3;
const SENTINEL = 12345.5;

interface HostCsr extends CsrArrays {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Random sparse rows×cols matrix; `emptyRow` and `emptyCol` get no entries. */
function randomCsr(rng: Rng, rows: number, cols: number, density: number, value: () => number): HostCsr {
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (r === EMPTY_USER || c === EMPTY_ITEM || rng.next() >= density) continue;
      indices.push(c);
      values.push(value());
    }
    indptr[r + 1] = indices.length;
  }
  return { indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

function transposeCsr(csr: HostCsr, rows: number, cols: number): HostCsr {
  const indptr = new Int32Array(cols + 1);
  for (const c of csr.indices) indptr[c + 1]++;
  for (let c = 0; c < cols; c++) indptr[c + 1] += indptr[c];
  const fill = indptr.slice(0, cols);
  const indices = new Int32Array(csr.indices.length);
  const values = new Float32Array(csr.indices.length);
  for (let r = 0; r < rows; r++) {
    for (let e = csr.indptr[r]; e < csr.indptr[r + 1]; e++) {
      const pos = fill[csr.indices[e]]++;
      indices[pos] = r;
      values[pos] = csr.values[e];
    }
  }
  return { indptr, indices, values };
}

/** Row r of csr as a one-row CSR (what a fold-in passes). */
function oneRow(csr: HostCsr, r: number): HostCsr {
  const begin = csr.indptr[r];
  const end = csr.indptr[r + 1];
  return {
    indptr: Int32Array.of(0, end - begin),
    indices: csr.indices.slice(begin, end),
    values: csr.values.slice(begin, end),
  };
}

function randomArray(rng: Rng, n: number, sd = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = sd * rng.normal();
  return a;
}

const ratings = (rng: Rng) => randomCsr(rng, N_USERS, N_ITEMS, 0.3, () => 1 + rng.int(5));
// Mostly positive counts, some negative feedback.
const implicitWeights = (rng: Rng) =>
  randomCsr(rng, N_USERS, N_ITEMS, 0.3, () => (rng.next() < 0.8 ? 1 + rng.int(5) : -1 - rng.int(3)));

function meanOf(values: Float32Array): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Max |got − want| relative to the largest |want|. */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 1e-30;
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i])).toBe(true);
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return worst / scale;
}

/** A scratch block followed by a guard band that the kernels must never write. */
function allocScratch(core: Core, k: number): { ptr: number; guardIntact: () => boolean } {
  const floats = alsScratchFloats(core, k);
  const ptr = core.allocF32(floats + 16);
  core.f32(ptr + floats * 4, 16).fill(SENTINEL);
  return { ptr, guardIntact: () => core.f32(ptr + floats * 4, 16).every((v) => v === SENTINEL) };
}

describe('choleskySolve', () => {
  it.each(KS)('solves a random SPD system, reading only the lower triangle (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(10 + k);
    const M = randomArray(rng, k * k);
    const A = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        for (let p = 0; p < k; p++) A[i * k + j] += M[p * k + i] * M[p * k + j];
      }
      A[i * k + i] += k;
    }
    const b = randomArray(rng, k);
    const Acore = Float32Array.from(A);
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) Acore[i * k + j] = NaN;
    const aPtr = core.putF32(Acore);
    const bPtr = core.putF32(b);
    expect(choleskySolve(core, aPtr, bPtr, k)).toBe(true);
    const x = Float64Array.from(core.f32(bPtr, k));
    const Ax = new Float64Array(k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Ax[i] += A[i * k + j] * x[j];
    expect(relError(Ax, b)).toBeLessThan(1e-5);
    expect(relError(x, choleskySolveRef(A, b, k))).toBeLessThan(1e-5);
  });

  it('reports a singular matrix and still returns finite numbers', () => {
    const core = new Core();
    const aPtr = core.putF32([1, 1, 1, 1]);
    const bPtr = core.putF32([1, 2]);
    expect(choleskySolve(core, aPtr, bPtr, 2)).toBe(false);
    expect(core.f32(bPtr, 2).every(Number.isFinite)).toBe(true);
  });
});

describe('alsScratchFloats', () => {
  it.each(KS)('covers the largest system (k=%i)', (k) => {
    expect(alsScratchFloats(new Core(), k)).toBeGreaterThanOrEqual(alsScratchFloatsRef(k));
  });
});

describe('gram', () => {
  it.each(KS)('equals FᵀF (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(20 + k);
    const n = 37;
    const F = randomArray(rng, n * k);
    const out = core.allocF32(k * k);
    gram(core, core.putF32(F), n, k, out);
    expect(relError(core.f32(out, k * k), gramRef(F, n, k))).toBeLessThan(1e-5);
  });
});

describe('alsExplicitSolve', () => {
  it.each(KS)('matches the reference with and without biases, rows in range only (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(30 + k);
    const R = ratings(rng);
    const csr = putCsr(core, R);
    const mean = meanOf(R.values);
    const Q = randomArray(rng, N_ITEMS * k, 0.3);
    const qBias = randomArray(rng, N_ITEMS, 0.3);
    const qPtr = core.putF32(Q);
    const qBiasPtr = core.putF32(qBias);
    const lambda = 0.1;
    const lambdaBias = 0.03;
    const [start, end] = [2, 35]; // includes the empty user
    const scratch = allocScratch(core, k);

    for (const biased of [true, false]) {
      const outPtr = core.allocF32(N_USERS * k);
      const biasPtr = core.allocF32(N_USERS);
      core.f32(outPtr, N_USERS * k).fill(SENTINEL);
      core.f32(biasPtr, N_USERS).fill(SENTINEL);
      alsExplicitSolve(
        core, csr, start, end, qPtr, biased ? qBiasPtr : 0, mean, k, lambda, lambdaBias, outPtr, biasPtr, scratch.ptr,
      );
      const want = new Float64Array(N_USERS * k).fill(SENTINEL);
      const wantBias = new Float64Array(N_USERS).fill(SENTINEL);
      alsExplicitSolveRef(R, start, end, Q, biased ? qBias : null, mean, k, lambda, lambdaBias, want, wantBias);

      const got = core.f32(outPtr, N_USERS * k);
      const gotBias = core.f32(biasPtr, N_USERS);
      expect(relError(got.subarray(start * k, end * k), want.subarray(start * k, end * k))).toBeLessThan(2e-4);
      expect(relError(gotBias.subarray(start, end), wantBias.subarray(start, end))).toBeLessThan(2e-4);
      // Untouched outside the range (and outBias entirely when there are no biases).
      expect(got.subarray(0, start * k).every((v) => v === SENTINEL)).toBe(true);
      expect(got.subarray(end * k).every((v) => v === SENTINEL)).toBe(true);
      for (let r = 0; r < N_USERS; r++) {
        if (!biased || r < start || r >= end) expect(gotBias[r]).toBe(SENTINEL);
      }
      // The empty row gets zeros.
      expect(Array.from(got.subarray(EMPTY_USER * k, (EMPTY_USER + 1) * k))).toEqual(new Array(k).fill(0));
      if (biased) expect(gotBias[EMPTY_USER]).toBe(0);
    }
    expect(scratch.guardIntact()).toBe(true);
  });
});

describe('alsImplicitSolve', () => {
  function setup(k: number) {
    const core = new Core();
    const rng = new Rng(40 + k);
    const W = implicitWeights(rng);
    const Y = randomArray(rng, N_ITEMS * k, 0.3);
    const yPtr = core.putF32(Y);
    const gPtr = core.allocF32(k * k);
    gram(core, yPtr, N_ITEMS, k, gPtr);
    const G = Float64Array.from(core.f32(gPtr, k * k));
    const X0 = randomArray(rng, N_USERS * k, 0.3);
    return { core, W, csr: putCsr(core, W), Y, yPtr, G, gPtr, X0, scratch: allocScratch(core, k) };
  }
  const lambda = 0.1;
  const alpha = 2;
  const [start, end] = [3, 31];

  it.each(KS)('Cholesky matches the reference, rows in range only (k=%i)', (k) => {
    const { core, W, csr, Y, yPtr, G, gPtr, scratch } = setup(k);
    const outPtr = core.allocF32(N_USERS * k);
    core.f32(outPtr, N_USERS * k).fill(SENTINEL);
    alsImplicitSolveCholesky(core, csr, start, end, yPtr, gPtr, k, lambda, alpha, false, outPtr, scratch.ptr);
    const want = new Float64Array(N_USERS * k).fill(SENTINEL);
    alsImplicitSolveCholeskyRef(W, start, end, Y, G, k, lambda, alpha, false, want);
    const got = core.f32(outPtr, N_USERS * k);
    expect(relError(got.subarray(start * k, end * k), want.subarray(start * k, end * k))).toBeLessThan(2e-4);
    expect(got.subarray(0, start * k).every((v) => v === SENTINEL)).toBe(true);
    expect(got.subarray(end * k).every((v) => v === SENTINEL)).toBe(true);
    expect(Array.from(got.subarray(EMPTY_USER * k, (EMPTY_USER + 1) * k))).toEqual(new Array(k).fill(0));
    expect(scratch.guardIntact()).toBe(true);
  });

  it.each(KS)('CG (3 steps, warm start) matches the reference, rows in range only (k=%i)', (k) => {
    const { core, W, csr, Y, yPtr, G, gPtr, X0, scratch } = setup(k);
    const outPtr = core.putF32(X0);
    alsImplicitSolveCG(core, csr, start, end, yPtr, gPtr, k, lambda, alpha, false, 3, outPtr, scratch.ptr);
    const want = Float64Array.from(X0);
    alsImplicitSolveCGRef(W, start, end, Y, G, k, lambda, alpha, false, 3, want);
    const got = core.f32(outPtr, N_USERS * k);
    expect(relError(got.subarray(start * k, end * k), want.subarray(start * k, end * k))).toBeLessThan(2e-4);
    // It did move: the warm start is not the answer.
    expect(relError(got.subarray(start * k, end * k), X0.subarray(start * k, end * k))).toBeGreaterThan(1e-2);
    expect(Array.from(got.subarray(0, start * k))).toEqual(Array.from(X0.subarray(0, start * k)));
    expect(Array.from(got.subarray(end * k))).toEqual(Array.from(X0.subarray(end * k)));
    expect(Array.from(got.subarray(EMPTY_USER * k, (EMPTY_USER + 1) * k))).toEqual(new Array(k).fill(0));
    expect(scratch.guardIntact()).toBe(true);
  });

  it.each(KS)('CG with enough steps converges to the Cholesky solution (k=%i)', (k) => {
    const { core, csr, yPtr, gPtr, X0, scratch } = setup(k);
    const cgPtr = core.putF32(X0);
    const exactPtr = core.allocF32(N_USERS * k);
    alsImplicitSolveCG(core, csr, 0, N_USERS, yPtr, gPtr, k, lambda, alpha, false, 3 * k + 10, cgPtr, scratch.ptr);
    alsImplicitSolveCholesky(core, csr, 0, N_USERS, yPtr, gPtr, k, lambda, alpha, false, exactPtr, scratch.ptr);
    expect(relError(core.f32(cgPtr, N_USERS * k), core.f32(exactPtr, N_USERS * k))).toBeLessThan(1e-3);
  });
});

/** Users, items, both CSRs and factor matrices in one core, for whole-model sweeps. */
function model(k: number, seed: number, implicit: boolean) {
  const core = new Core();
  const rng = new Rng(seed);
  const byUser = implicit ? implicitWeights(rng) : ratings(rng);
  const byItem = transposeCsr(byUser, N_USERS, N_ITEMS);
  const X = core.putF32(randomArray(rng, N_USERS * k, 0.1));
  const Y = core.putF32(randomArray(rng, N_ITEMS * k, 0.1));
  return {
    core, byUser, byItem, X, Y,
    users: putCsr(core, byUser),
    items: putCsr(core, byItem),
    xBias: core.allocF32(N_USERS),
    yBias: core.allocF32(N_ITEMS),
    gramPtr: core.allocF32(k * k),
    scratch: core.allocF32(alsScratchFloats(core, k)),
    mean: implicit ? 0 : meanOf(byUser.values),
    x: () => core.f32(X, N_USERS * k),
    y: () => core.f32(Y, N_ITEMS * k),
  };
}

describe('explicit ALS sweeps', () => {
  const lambda = 0.05;
  const lambdaBias = 0.02;
  it.each([
    [3, true],
    [5, true],
    [5, false],
    [64, true],
  ])('loss decreases every half-sweep over 10 sweeps (k=%i, biases=%s)', (k, biased) => {
    const m = model(k, 50 + k, false);
    const loss = () =>
      explicitLoss(
        m.byUser, N_USERS, N_ITEMS, m.x(), biased ? m.core.f32(m.xBias, N_USERS) : null,
        m.y(), biased ? m.core.f32(m.yBias, N_ITEMS) : null, m.mean, k, lambda, lambdaBias,
      );
    let prev = loss();
    for (let sweep = 0; sweep < 10; sweep++) {
      alsExplicitSolve(
        m.core, m.users, 0, N_USERS, m.Y, biased ? m.yBias : 0, m.mean, k, lambda, lambdaBias, m.X, m.xBias, m.scratch,
      );
      const afterUsers = loss();
      expect(afterUsers).toBeLessThan(prev);
      alsExplicitSolve(
        m.core, m.items, 0, N_ITEMS, m.X, biased ? m.xBias : 0, m.mean, k, lambda, lambdaBias, m.Y, m.yBias, m.scratch,
      );
      prev = loss();
      expect(prev).toBeLessThan(afterUsers);
    }
  });

  it.each([1, 4, 5])('a one-row fold-in equals that row of the full half-sweep (k=%i)', (k) => {
    const m = model(k, 60 + k, false);
    for (let sweep = 0; sweep < 2; sweep++) {
      alsExplicitSolve(m.core, m.users, 0, N_USERS, m.Y, m.yBias, m.mean, k, 0.05, 0.02, m.X, m.xBias, m.scratch);
      alsExplicitSolve(m.core, m.items, 0, N_ITEMS, m.X, m.xBias, m.mean, k, 0.05, 0.02, m.Y, m.yBias, m.scratch);
    }
    alsExplicitSolve(m.core, m.users, 0, N_USERS, m.Y, m.yBias, m.mean, k, 0.05, 0.02, m.X, m.xBias, m.scratch);
    for (const u of [0, 12, EMPTY_USER, N_USERS - 1]) {
      const vec = m.core.putF32(new Array(k).fill(SENTINEL));
      const bias = m.core.putF32([SENTINEL]);
      const row = putCsr(m.core, oneRow(m.byUser, u));
      alsExplicitSolve(m.core, row, 0, 1, m.Y, m.yBias, m.mean, k, 0.05, 0.02, vec, bias, m.scratch);
      expect(Array.from(m.core.f32(vec, k))).toEqual(Array.from(m.x().subarray(u * k, (u + 1) * k)));
      expect(m.core.f32(bias, 1)[0]).toBe(m.core.f32(m.xBias, N_USERS)[u]);
    }
  });
});

describe('implicit ALS sweeps', () => {
  const lambda = 0.1;
  const alpha = 2;
  // cgSteps 0 would mean "use Cholesky" for this helper.
  function halfSweep(m: ReturnType<typeof model>, k: number, users: boolean, cgSteps: number): void {
    const [csr, rows, fixed, nFixed, out]: [Csr, number, number, number, number] = users
      ? [m.users, N_USERS, m.Y, N_ITEMS, m.X]
      : [m.items, N_ITEMS, m.X, N_USERS, m.Y];
    gram(m.core, fixed, nFixed, k, m.gramPtr);
    if (cgSteps > 0) {
      alsImplicitSolveCG(m.core, csr, 0, rows, fixed, m.gramPtr, k, lambda, alpha, false, cgSteps, out, m.scratch);
    } else {
      alsImplicitSolveCholesky(m.core, csr, 0, rows, fixed, m.gramPtr, k, lambda, alpha, false, out, m.scratch);
    }
  }

  it.each([
    [3, 0],
    [5, 0],
    [64, 0],
    [3, 3],
    [5, 3],
    [64, 3],
  ])('loss decreases every sweep over 10 sweeps (k=%i, cgSteps=%i)', (k, cgSteps) => {
    const m = model(k, 70 + k, true);
    const loss = () => implicitLoss(m.byUser, N_USERS, N_ITEMS, m.x(), m.y(), k, lambda, alpha);
    let prev = loss();
    for (let sweep = 0; sweep < 10; sweep++) {
      halfSweep(m, k, true, cgSteps);
      const afterUsers = loss();
      expect(afterUsers).toBeLessThan(prev);
      halfSweep(m, k, false, cgSteps);
      prev = loss();
      expect(prev).toBeLessThan(afterUsers);
    }
  });

  it.each([
    [1, 0],
    [5, 0],
    [4, 3],
    [5, 3],
  ])('a one-row fold-in equals that row of the full half-sweep (k=%i, cgSteps=%i)', (k, cgSteps) => {
    const m = model(k, 80 + k, true);
    halfSweep(m, k, true, cgSteps);
    halfSweep(m, k, false, cgSteps);
    const before = Float32Array.from(m.x());
    halfSweep(m, k, true, cgSteps); // leaves the item gram in m.gramPtr
    for (const u of [0, 12, EMPTY_USER, N_USERS - 1]) {
      // Warm start from the same previous vector the half-sweep started from.
      const vec = m.core.putF32(before.subarray(u * k, (u + 1) * k));
      const row = putCsr(m.core, oneRow(m.byUser, u));
      if (cgSteps > 0) {
        alsImplicitSolveCG(m.core, row, 0, 1, m.Y, m.gramPtr, k, lambda, alpha, false, cgSteps, vec, m.scratch);
      } else {
        alsImplicitSolveCholesky(m.core, row, 0, 1, m.Y, m.gramPtr, k, lambda, alpha, false, vec, m.scratch);
      }
      expect(Array.from(m.core.f32(vec, k))).toEqual(Array.from(m.x().subarray(u * k, (u + 1) * k)));
    }
  });
});
