/**
 * EASE's fit as a Schedule (src/wasm/pool.ts): the same steps run inline or on a thread pool,
 * bit-identical for any thread count (every entry is computed by the same kernel call shape
 * whichever thread runs it). Two ways to the same B, whichever costs less (easePlan):
 *
 * Through the items (primal), P = (XᵀX + λI)⁻¹ directly:
 *   1. Gram: A's lower triangle = XᵀX + λI (rows dealt in chunks of about equal work);
 *   2. for each pivot block of EASE_BLOCK rows: invert the diagonal block and pack the block's
 *      columns; then sweep every other row (rows split so each thread's share of the lower
 *      triangle is about equal);
 *   3. B from −P on both triangles, diagonal 0 (tile rows split by triangle area).
 *   Cost: O(Σ_u |u|²) for the Gram, items³/2 multiply-adds for the sweep, items² for the rest.
 *
 * Through the users (dual), P = (I − Xᵀ(XXᵀ + λI)⁻¹X)/λ (Woodbury; assembly/ease-dual.ts):
 *   1. K = XXᵀ + λI (users × users), 2. its inverse by the same sweep, 3. mirrored,
 *   4. Y = −K⁻¹X, 5. diag(XᵀY), 6. B's rows from XᵀY.
 *   Cost: users³/2 + nnz·users + items·nnz/4 f32x4 steps: on ml-latest-small (610 users,
 *   9,000 items) about a fiftieth of the primal's.
 */
import { transpose, type Csr } from '../data/csr.ts';
import type { Core } from '../wasm/core.ts';
import { EASE_BLOCK, EASE_DUAL_GROUP, EASE_FINISH_TILE, EASE_MIRROR_TILE, EASE_PANEL, EASE_ROW_BLOCK, easeStride } from '../wasm/ease.ts';
import { putCsr } from '../wasm/als.ts';
import { shareRows, type Call, type Schedule } from '../wasm/pool.ts';
import { ModelStateError } from '../errors.ts';

export interface EaseTarget {
  /** The stride×stride matrix, in core memory: B when the schedule ends (rows and columns ≥ n unused). */
  A: number;
  stride: number;
  /** Items (the matrix is n×n inside its padding). */
  n: number;
  lambda: number;
  threads: number;
}

export interface EasePlan {
  /** Through the users (Woodbury) rather than the items. */
  dual: boolean;
  /** Steps easeSchedule yields: the `total` of a fit's progress. */
  steps: number;
}

/**
 * Which way a fit on `byUser` (users × n items) goes, by estimated cost in units of one
 * multiply-add of the sweep's tile: a scattered Gram update costs about 4, an interaction of
 * the dual's last step about 3 per item row, an axpy element about 2.
 */
export function easePlan(byUser: Csr, n: number): EasePlan {
  const m = byUser.rows;
  const nnz = byUser.indptr[m];
  const counts = new Float64Array(n);
  let userSquares = 0;
  for (let u = 0; u < m; u++) {
    const len = byUser.indptr[u + 1] - byUser.indptr[u];
    userSquares += len * len;
    for (let p = byUser.indptr[u]; p < byUser.indptr[u + 1]; p++) counts[byUser.indices[p]]++;
  }
  let itemSquares = 0;
  for (let i = 0; i < n; i++) itemSquares += counts[i] * counts[i];
  const primal = easeStride(n) ** 3 / 2 + 2 * userSquares;
  const dual = easeStride(m) ** 3 / 2 + 2 * itemSquares + 2 * nnz * m + 3 * n * nnz;
  if (m < n && dual < primal) return { dual: true, steps: 5 + 2 * Math.ceil(easeStride(m) / EASE_BLOCK) };
  return { dual: false, steps: 2 + 2 * Math.ceil(easeStride(n) / EASE_BLOCK) };
}

/**
 * Fits B into `target.A` from the user → items matrix `byUser` (values as weights), the way
 * `plan` says; writes diag P (the inverse Gram's diagonal, kept for erasure) into `diag`
 * (n floats). Scratch is taken from the core and released at the end (or on failure).
 */
export function* easeSchedule(core: Core, byUser: Csr, target: EaseTarget, diag: Float32Array, plan: EasePlan): Schedule {
  const byItem = transpose(byUser, target.n);
  yield* plan.dual ? dualSchedule(core, byUser, byItem, target, diag) : primalSchedule(core, byUser, byItem, target, diag);
}

function* primalSchedule(core: Core, byUser: Csr, byItem: Csr, target: EaseTarget, diag: Float32Array): Schedule {
  const { A, stride, n, lambda, threads: T } = target;
  yield* scoped(core, function* () {
    const users = putCsr(core, byUser);
    const items = putCsr(core, byItem);
    const gram = (start: number, end: number): Call => ({
      fn: 'easeGram',
      args: [items.indptr, items.indices, items.values, users.indptr, users.indices, users.values, n, lambda, A, stride, start, end],
    });
    yield shareRows(gramWork(byItem, byUser, stride), T, undefined, CALLS_PER_THREAD).map((own) => own.map(([start, end]) => gram(start, end)));
  });
  yield* invertSpd(core, A, stride, T);
  yield* scoped(core, function* () {
    // A's diagonal is −P_jj: kept for erasure, and its inverse scales B's columns.
    const invD = core.allocF32(n);
    const a = core.f32(A, stride * stride);
    const inv = core.f32(invD, n);
    for (let j = 0; j < n; j++) {
      diag[j] = -a[j * stride + j];
      inv[j] = 1 / diag[j];
    }
    const tiles = Math.ceil(n / EASE_FINISH_TILE);
    yield triangleSplit(tiles, T).map((range) => pieces(range, TILE_ROWS_PER_CALL).map(([start, end]): Call => ({ fn: 'easeFinish', args: [A, stride, n, invD, start, end] })));
  });
}

function* dualSchedule(core: Core, byUser: Csr, byItem: Csr, target: EaseTarget, diag: Float32Array): Schedule {
  const { A: B, stride, n, lambda, threads: T } = target;
  const m = byUser.rows;
  const mStride = easeStride(m);
  const groups = Math.ceil(n / EASE_DUAL_GROUP);
  yield* scoped(core, function* () {
    const users = putCsr(core, byUser);
    const items = putCsr(core, byItem);
    const K = core.allocF32(mStride * mStride);
    const Yt = core.allocF32(groups * EASE_DUAL_GROUP * m);
    const scratch = Array.from({ length: T }, () => core.allocF32(m));
    const denom = core.allocF32(n);
    const negInv = core.allocF32(n);
    // K = XXᵀ + λI: the Gram kernel with the two matrices' roles swapped.
    const gram = (start: number, end: number): Call => ({
      fn: 'easeGram',
      args: [users.indptr, users.indices, users.values, items.indptr, items.indices, items.values, m, lambda, K, mStride, start, end],
    });
    yield shareRows(gramWork(byUser, byItem, mStride), T, undefined, CALLS_PER_THREAD).map((own) => own.map(([start, end]) => gram(start, end)));
    yield* invertSpd(core, K, mStride, T);
    yield triangleSplit(Math.ceil(m / EASE_MIRROR_TILE), T).map((range) => pieces(range, TILE_ROWS_PER_CALL).map(([start, end]): Call => ({ fn: 'easeMirror', args: [K, mStride, m, start, end] })));
    const byGroups = evenSplit(groups, T);
    yield byGroups.map((range, t) => pieces(range, GROUPS_PER_CALL).map(([start, end]): Call => ({
      fn: 'easeProject', args: [items.indptr, items.indices, items.values, n, K, mStride, m, Yt, start, end, scratch[t]],
    })));
    yield evenSplit(n, T).map((range) => pieces(range, 64 * GROUPS_PER_CALL).map(([start, end]): Call => ({
      fn: 'easeDualDiagonal', args: [items.indptr, items.indices, items.values, Yt, m, start, end, denom],
    })));
    const d = core.f32(denom, n);
    const neg = core.f32(negInv, n);
    for (let j = 0; j < n; j++) {
      diag[j] = d[j] / lambda; // P_jj = (1 + M_jj) / λ
      neg[j] = -1 / d[j];
    }
    yield byGroups.map((range) => pieces(range, GROUPS_PER_CALL).map(([start, end]): Call => ({
      fn: 'easeDualRows', args: [items.indptr, items.indices, items.values, n, Yt, m, negInv, B, stride, start, end],
    })));
  });
}

/**
 * Inverts the symmetric positive-definite matrix held in A's lower triangle (stride×stride,
 * stride a multiple of EASE_PANEL) in place by the block sweep: the lower triangle becomes −A⁻¹
 * (the upper one holds scraps). Two steps per block of EASE_BLOCK pivots. Throws
 * ModelStateError when a pivot block is not numerically positive definite.
 */
export function* invertSpd(core: Core, A: number, stride: number, threads: number): Schedule {
  yield* scoped(core, function* () {
    const Vt = core.allocF32(stride * Math.min(EASE_BLOCK, stride));
    const D = core.allocF32(EASE_BLOCK * EASE_BLOCK);
    const Dp = core.allocF32(EASE_BLOCK * EASE_BLOCK);
    const W = Array.from({ length: threads }, () => core.allocF32(EASE_ROW_BLOCK * EASE_BLOCK));
    const panels = stride / EASE_PANEL;
    for (let k0 = 0; k0 < stride; k0 += EASE_BLOCK) {
      const k1 = Math.min(k0 + EASE_BLOCK, stride);
      const packs = evenSplit(panels, threads).map((range) => pieces(range, PANELS_PER_CALL).map(([start, end]): Call => ({ fn: 'easePack', args: [A, stride, k0, k1, Vt, start, end] })));
      packs[0].unshift({ fn: 'easeInvertBlock', args: [A, stride, k0, k1 - k0, D, Dp] });
      const results: number[][] = yield packs;
      if (results[0][0] !== 1) {
        throw new ModelStateError(`ease: the Gram matrix plus lambda·I is not numerically positive definite (pivot block at row ${k0}); raise lambda`);
      }
      const rows = sweepSplit(stride, k0, k1, threads);
      yield rows.map((range, t) => pieces(range, ROWS_PER_CALL).map(([start, end]): Call => ({ fn: 'easeSweepRows', args: [A, stride, k0, k1, Vt, Dp, start, end, W[t], EASE_ROW_BLOCK] })));
    }
  });
}

/**
 * Runs `steps`, which allocate their scratch before their first step, and releases that scratch
 * when they end or fail — unless someone allocated after it meanwhile (a model used during
 * fitAsync): then it is leaked rather than freed from under them.
 */
function* scoped(core: Core, steps: () => Schedule): Schedule {
  const mark = core.mark();
  let top = -1;
  try {
    const inner = steps();
    let step = inner.next();
    top = core.mark();
    while (!step.done) step = inner.next(yield step.value);
  } finally {
    if (top < 0 || core.mark() === top) core.release(mark);
  }
}

// Every thread's share of a step is a series of short calls (milliseconds each), not one long
// one: V8 runs a WebAssembly function in its baseline tier (Liftoff, 2–3× slower here) until
// it has been hot for a while, and a call already running never switches, so one call per
// step would run the first steps of a fit at baseline speed.
/** Calls per thread for the Gram rows (shareRows chunks). */
const CALLS_PER_THREAD = 64;
/** Rows per easeSweepRows call (a multiple of EASE_PANEL). */
const ROWS_PER_CALL = 2 * EASE_ROW_BLOCK;
const PANELS_PER_CALL = 64;
/** Item groups (EASE_DUAL_GROUP items) per easeProject or easeDualRows call. */
const GROUPS_PER_CALL = 32;
const TILE_ROWS_PER_CALL = 16;

/** [start, end) in consecutive pieces of at most `size` (none when empty). */
function pieces([start, end]: [number, number], size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = start; s < end; s += size) out.push([s, Math.min(s + size, end)]);
  return out;
}

/**
 * Cumulative Gram work per row, in the prefix form shareRows takes: row a scatters, for each of
 * its users, that user's items up to a — about the user's row length times a/n on ids in no
 * particular order — and zeroes a + 1 floats.
 */
function gramWork(byItem: Csr, byUser: Csr, stride: number): Float64Array {
  const prefix = new Float64Array(stride + 1);
  const n = byItem.rows;
  for (let a = 0; a < stride; a++) {
    let work = 0;
    if (a < n) {
      for (let p = byItem.indptr[a]; p < byItem.indptr[a + 1]; p++) {
        const u = byItem.indices[p];
        work += byUser.indptr[u + 1] - byUser.indptr[u];
      }
    }
    prefix[a + 1] = prefix[a] + (work * (a + 1)) / n + (a + 1) / 16 + 8;
  }
  return prefix;
}

/** [0, count) in `parts` contiguous ranges of about equal size. */
function evenSplit(count: number, parts: number): Array<[number, number]> {
  return Array.from({ length: parts }, (_, t) => [Math.floor((count * t) / parts), Math.floor((count * (t + 1)) / parts)]);
}

/**
 * The rows of a sweep of pivot block [k0, k1) in `parts` ranges of whole panels with about equal
 * work: a row i outside the block updates its lower-triangle columns outside the block
 * (i + 1 of them, less the block's b when i ≥ k1) and computes its W (b² multiply-adds: as many as b more columns).
 */
function sweepSplit(stride: number, k0: number, k1: number, parts: number): Array<[number, number]> {
  if (parts === 1) return [[0, stride]];
  const b = k1 - k0;
  const groups = stride / EASE_PANEL;
  const prefix = new Float64Array(groups + 1);
  for (let g = 0; g < groups; g++) {
    const i = g * EASE_PANEL;
    const inBlock = i >= k0 && i < k1;
    const cols = i + EASE_PANEL / 2 - (i >= k1 ? b : 0);
    prefix[g + 1] = prefix[g] + (inBlock ? 0 : EASE_PANEL * (cols + b));
  }
  return splitPrefix(prefix, parts).map(([start, end]) => [start * EASE_PANEL, end * EASE_PANEL]);
}

/** Tile rows [0, tiles) in `parts` ranges of about equal lower-triangle area (tile row t: t + 1 tiles). */
function triangleSplit(tiles: number, parts: number): Array<[number, number]> {
  const prefix = new Float64Array(tiles + 1);
  for (let t = 0; t < tiles; t++) prefix[t + 1] = prefix[t] + t + 1;
  return splitPrefix(prefix, parts);
}

/** Contiguous ranges of rows whose cumulative cost (prefix[r + 1] − prefix[r] for row r) is about total/parts each. */
function splitPrefix(prefix: Float64Array, parts: number): Array<[number, number]> {
  const rows = prefix.length - 1;
  const total = prefix[rows];
  const bounds = [0];
  let r = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (r < rows && (prefix[r] + prefix[r + 1]) / 2 <= target) r++;
    bounds.push(r);
  }
  bounds.push(rows);
  return Array.from({ length: parts }, (_, p) => [bounds[p], bounds[p + 1]]);
}
