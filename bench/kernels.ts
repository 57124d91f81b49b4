/**
 * WebAssembly kernels vs the plain-TypeScript references in test/reference/ → bench/results/kernels.json.
 * A benchmark, not a test: it asserts nothing. Each kernel runs on the same inputs in both forms
 * (the reference on ordinary typed arrays, float64 arithmetic, as the tests use it); medians of 5
 * timed calls after 1 warm-up, and the speed-up = reference median / WASM median. `maxAbsDiff`
 * compares the outputs of one more call each, to show both did the same work.
 *
 *   npx tsx bench/kernels.ts [--quick]
 */
import { Rng } from '../src/data/rng.ts';
import type { Interactions } from '../src/data/interactions.ts';
import { Core } from '../src/wasm/core.ts';
import { alsExplicitSolve, alsImplicitSolveCG, alsScratchFloats, gram, putCsr } from '../src/wasm/als.ts';
import { accumLength, cosineNeighbors, itemNorms, touchedLength } from '../src/wasm/knn.ts';
import { sgdEpoch } from '../src/wasm/sgd.ts';
import { scoreItems, selectTop, vecDot } from '../src/wasm/topk.ts';
import { alsExplicitSolveRef, alsImplicitSolveCGRef, gramRef } from '../test/reference/als.ts';
import { cosineNeighborsRef, type Triplet } from '../test/reference/knn.ts';
import { sgdEpochRef } from '../test/reference/sgd.ts';
import { dotRef, topNRef } from '../test/reference/vec.ts';
import { fmtSeconds, isQuick, measure, mlSmallInteractions, writeResult, type Measurement } from './lib.ts';

const quick = isQuick();
const K = 64;
const timing = { warmup: 1, runs: quick ? 2 : 5 };
const rng = new Rng(7);

interface KernelResult {
  kernel: string;
  size: string;
  wasm: Measurement;
  reference: Measurement;
  /** reference median / WASM median. */
  speedup: number;
  maxAbsDiff?: number;
  note?: string;
}

const results: KernelResult[] = [];

async function compare(
  kernel: string, size: string, wasm: () => unknown, reference: () => unknown,
  extra: { before?: () => unknown; check?: () => number; note?: string } = {},
): Promise<void> {
  const w = await measure(wasm, { ...timing, before: extra.before });
  const r = await measure(reference, { ...timing, before: extra.before });
  const result: KernelResult = { kernel, size, wasm: w, reference: r, speedup: r.median / w.median };
  if (extra.check) {
    // One more call of each from the same state, then compare their outputs.
    await extra.before?.();
    await wasm();
    await reference();
    result.maxAbsDiff = extra.check();
  }
  if (extra.note) result.note = extra.note;
  results.push(result);
  console.log(`${kernel.padEnd(34)} ${size.padEnd(40)} wasm ${fmtSeconds(w.median).padStart(10)}  ts ${fmtSeconds(r.median).padStart(10)}  ×${result.speedup.toFixed(1)}`);
}

function randomFill(a: Float32Array | Float64Array, scale = 0.1): void {
  for (let t = 0; t < a.length; t++) a[t] = rng.normal() * scale;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let t = 0; t < a.length; t++) m = Math.max(m, Math.abs(a[t] - b[t]));
  return m;
}

// ---- dot: one user vector against every row of a 1M × 64 matrix, one call per vector ----
{
  const n = quick ? 100_000 : 1_000_000;
  const core = new Core();
  const matrix = core.allocF32(n * K);
  const user = core.allocF32(K);
  const host = new Float32Array(n * K);
  randomFill(host);
  core.f32(matrix, n * K).set(host);
  const hostUser = new Float32Array(K);
  randomFill(hostUser);
  core.f32(user, K).set(hostUser);
  let wasmSum = 0;
  let refSum = 0;
  await compare(
    'dot (vecDot)', `k=${K} × ${n.toLocaleString('en-US')} vectors`,
    () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += vecDot(core, user, matrix + i * K * 4, K);
      wasmSum = s;
    },
    () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += dotRef(hostUser, host, 0, i * K, K);
      refSum = s;
    },
    { check: () => Math.abs(wasmSum - refSum) / n, note: 'one JS→WASM call per vector; maxAbsDiff is per dot, averaged' },
  );
}

// ---- scoreItems + selectTop: score a 100k-item catalog and take the top 10 ----
{
  const nItems = 100_000;
  const core = new Core();
  const factors = core.allocF32(nItems * K);
  const user = core.allocF32(K);
  const scores = core.allocF32(nItems);
  const outIdx = core.allocI32(10);
  const outScores = core.allocF32(10);
  const host = new Float32Array(nItems * K);
  randomFill(host);
  core.f32(factors, nItems * K).set(host);
  const hostUser = new Float32Array(K);
  randomFill(hostUser);
  core.f32(user, K).set(hostUser);
  const refScores = new Float64Array(nItems);
  let refTop: number[] = [];
  const refScore = () => {
    for (let i = 0; i < nItems; i++) refScores[i] = dotRef(hostUser, host, 0, i * K, K);
  };
  const size = `${nItems.toLocaleString('en-US')} items, k=${K}, top 10`;
  await compare(
    'scoreItems + selectTop', size,
    () => {
      scoreItems(core, factors, 0, nItems, K, user, scores);
      selectTop(core, scores, nItems, 0, 0, 0, 10, outIdx, outScores);
    },
    () => {
      refScore();
      refTop = topNRef(refScores, 10, new Set()).idx;
    },
    {
      check: () => (refTop.every((i, t) => core.i32(outIdx, 10)[t] === i) ? 0 : 1),
      note: 'the reference top-N is a full sort of all candidates; maxAbsDiff 0 = same top-10 indices',
    },
  );
  await compare('scoreItems', `${nItems.toLocaleString('en-US')} items, k=${K}`, () => scoreItems(core, factors, 0, nItems, K, user, scores), refScore, {
    check: () => maxAbsDiff(core.f32(scores, nItems), refScores),
  });
  await compare(
    'selectTop', `${nItems.toLocaleString('en-US')} scores, top 10`,
    () => selectTop(core, scores, nItems, 0, 0, 0, 10, outIdx, outScores),
    () => (refTop = topNRef(refScores, 10, new Set()).idx),
    { note: 'heap (WASM) vs full sort (reference)' },
  );
}

// ---- the rest run on ml-latest-small (100,836 ratings, 610 users × 9,724 items) ----
const explicitData = mlSmallInteractions(true);
const implicitData = mlSmallInteractions(false);
const mlSize = (d: Interactions) =>
  `${d.size.toLocaleString('en-US')} ratings, ${d.users.size} users × ${d.items.size.toLocaleString('en-US')} items, k=${K}`;

// ---- SGD epoch over ml-latest-small ----
{
  const data = explicitData;
  const n = data.size;
  const core = new Core();
  const users = core.putI32(data.userIdx);
  const items = core.putI32(data.itemIdx);
  const values = core.putF32(data.values);
  const orderHost = Int32Array.from({ length: n }, (_, t) => t);
  rng.shuffle(orderHost);
  const order = core.putI32(orderHost);
  const init = (rows: number) => {
    const a = new Float32Array(rows * K);
    randomFill(a);
    return a;
  };
  const pu0 = init(data.users.size);
  const qi0 = init(data.items.size);
  const pu = core.putF32(pu0);
  const qi = core.putF32(qi0);
  const bu = core.allocF32(data.users.size);
  const bi = core.allocF32(data.items.size);
  const mean = data.mean();
  const model = {
    userFactors: Float64Array.from(pu0), itemFactors: Float64Array.from(qi0),
    userBias: new Float64Array(data.users.size), itemBias: new Float64Array(data.items.size),
  };
  const p = { mean, k: K, lr: 0.005, regFactor: 0.02, regBias: 0.02 };
  // Both start every epoch from the same factors, so their outputs stay comparable.
  const reset = () => {
    core.f32(pu, pu0.length).set(pu0);
    core.f32(qi, qi0.length).set(qi0);
    core.f32(bu, data.users.size).fill(0);
    core.f32(bi, data.items.size).fill(0);
    model.userFactors.set(pu0);
    model.itemFactors.set(qi0);
    model.userBias.fill(0);
    model.itemBias.fill(0);
  };
  await compare(
    'sgdEpoch', mlSize(data),
    () => sgdEpoch(core, users, items, values, order, 0, n, mean, pu, qi, bu, bi, K, p.lr, p.regFactor, p.regBias),
    () => sgdEpochRef(data.userIdx, data.itemIdx, data.values, orderHost, 0, n, model, p),
    { before: reset, check: () => maxAbsDiff(core.f32(qi, qi0.length), model.itemFactors) },
  );
}

// ---- explicit ALS-WR half-sweeps (biased, Cholesky per row) ----
{
  const data = explicitData;
  const core = new Core();
  const byUser = data.byUser();
  const byItem = data.byItem();
  const userCsr = putCsr(core, byUser);
  const itemCsr = putCsr(core, byItem);
  const scratch = core.allocF32(alsScratchFloats(core, K));
  const mean = data.mean();
  const side = (rows: number) => {
    const f = new Float32Array(rows * K);
    randomFill(f);
    const b = new Float32Array(rows);
    randomFill(b);
    return { host: f, hostBias: b, factors: core.putF32(f), bias: core.putF32(b), rows };
  };
  const users = side(data.users.size);
  const items = side(data.items.size);
  const lambda = 0.1;
  const lambdaBias = 0.1;
  for (const [label, csr, hostCsr, target, other] of [
    ['users', userCsr, byUser, users, items],
    ['items', itemCsr, byItem, items, users],
  ] as const) {
    // Separate outputs, so the other side's inputs stay the same for both.
    const out = core.allocF32(target.rows * K);
    const outBias = core.allocF32(target.rows);
    const refOut = new Float64Array(target.rows * K);
    const refBias = new Float64Array(target.rows);
    await compare(
      `alsExplicitSolve (${label} half-sweep)`, `${target.rows.toLocaleString('en-US')} rows; ${mlSize(data)}`,
      () => alsExplicitSolve(core, csr, 0, target.rows, other.factors, other.bias, mean, K, lambda, lambdaBias, out, outBias, scratch),
      () => alsExplicitSolveRef(hostCsr, 0, target.rows, other.host, other.hostBias, mean, K, lambda, lambdaBias, refOut, refBias),
      { check: () => maxAbsDiff(core.f32(out, target.rows * K), refOut) },
    );
  }
}

// ---- implicit ALS half-sweeps: YᵀY + 3 warm-started CG steps per row, as in training ----
{
  const data = implicitData;
  const core = new Core();
  const byUser = data.byUser();
  const byItem = data.byItem();
  const userCsr = putCsr(core, byUser);
  const itemCsr = putCsr(core, byItem);
  const scratch = core.allocF32(alsScratchFloats(core, K));
  const g = core.allocF32(K * K);
  const side = (rows: number) => {
    const f = new Float32Array(rows * K);
    randomFill(f, 0.01);
    return { init: f, factors: core.putF32(f), rows };
  };
  const users = side(data.users.size);
  const items = side(data.items.size);
  const reg = 50;
  const alpha = 5;
  const cgSteps = 3;
  for (const [label, csr, hostCsr, target, other] of [
    ['users', userCsr, byUser, users, items],
    ['items', itemCsr, byItem, items, users],
  ] as const) {
    const refOut = new Float64Array(target.rows * K);
    // Both warm-start from the same initial rows every call, against the same other side.
    const reset = () => {
      core.f32(target.factors, target.rows * K).set(target.init);
      core.f32(other.factors, other.rows * K).set(other.init);
      refOut.set(target.init);
    };
    await compare(
      `alsImplicitSolveCG (${label} half-sweep)`, `${target.rows.toLocaleString('en-US')} rows, ${cgSteps} CG steps; ${mlSize(data)}`,
      () => {
        gram(core, other.factors, other.rows, K, g);
        alsImplicitSolveCG(core, csr, 0, target.rows, other.factors, g, K, reg, alpha, false, cgSteps, target.factors, scratch);
      },
      () => alsImplicitSolveCGRef(hostCsr, 0, target.rows, other.init, gramRef(other.init, other.rows, K), K, reg, alpha, false, cgSteps, refOut),
      { before: reset, check: () => maxAbsDiff(core.f32(target.factors, target.rows * K), refOut), note: 'includes the YᵀY (gram) of the other side, as each training half-sweep does' },
    );
  }
}

// ---- item-kNN cosine neighbours on a 20k-interaction slice ----
{
  // The slice: the most popular items of ml-latest-small (weight 1 per pair) until ~20k
  // interactions. The reference is a dense brute force (O(items² · users)), so the slice keeps
  // the item count in the hundreds.
  const target = quick ? 5_000 : 20_000;
  const data = implicitData;
  const byItem = data.byItem();
  const popularity = Array.from({ length: data.items.size }, (_, i) => i).sort(
    (a, b) => byItem.indptr[b + 1] - byItem.indptr[b] - (byItem.indptr[a + 1] - byItem.indptr[a]) || a - b,
  );
  const kept: number[] = [];
  let total = 0;
  for (const i of popularity) {
    if (total >= target) break;
    kept.push(i);
    total += byItem.indptr[i + 1] - byItem.indptr[i];
  }
  const userMap = new Map<number, number>();
  const triplets: Triplet[] = [];
  kept.forEach((i, newItem) => {
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
      const u = byItem.indices[p];
      if (!userMap.has(u)) userMap.set(u, userMap.size);
      triplets.push([userMap.get(u)!, newItem, byItem.values[p]]);
    }
  });
  const nUsers = userMap.size;
  const nItems = kept.length;
  const neighbors = 50;
  const core = new Core();
  const toCsr = (by: 0 | 1, rows: number) => {
    const sorted = [...triplets].sort((a, b) => a[by] - b[by] || a[1 - by] - b[1 - by]);
    const indptr = new Int32Array(rows + 1);
    for (const t of sorted) indptr[t[by] + 1]++;
    for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
    return putCsr(core, { indptr, indices: Int32Array.from(sorted, (t) => t[1 - by]), values: Float32Array.from(sorted, (t) => t[2]) });
  };
  const it = toCsr(1, nItems);
  const us = toCsr(0, nUsers);
  const norms = core.allocF32(nItems);
  const outNeighbors = core.allocI32(nItems * neighbors);
  const outSims = core.allocF32(nItems * neighbors);
  const accum = core.allocF32(accumLength(nItems));
  const touched = core.allocI32(touchedLength(nItems));
  let ref: { idx: Int32Array; sim: Float64Array } | null = null;
  await compare(
    'cosineNeighbors', `${triplets.length.toLocaleString('en-US')} interactions (${nUsers} users × ${nItems} most popular items), K=${neighbors}`,
    () => {
      itemNorms(core, it.indptr, it.values, nItems, norms);
      cosineNeighbors(core, it.indptr, it.indices, it.values, norms, us.indptr, us.indices, us.values, nItems, neighbors, 0, 0, nItems, outNeighbors, outSims, accum, touched);
    },
    () => (ref = cosineNeighborsRef(triplets, nUsers, nItems, neighbors, 0)),
    { check: () => maxAbsDiff(core.f32(outSims, nItems * neighbors), ref!.sim), note: 'the reference is a dense brute force over all item pairs' },
  );
}

writeResult('kernels', {
  method:
    'Each kernel on identical inputs: the WebAssembly core (src/wasm/*, SIMD, float32) vs the plain-TypeScript reference ' +
    `(test/reference/*, float64). Median of ${timing.runs} timed calls after ${timing.warmup} warm-up, single thread; speedup = reference / WASM. ` +
    'ml-latest-small supplies the ratings for SGD, ALS and kNN; dot and scoring use random factors.',
  k: K,
  results,
});
