/**
 * EASE's fit as a Schedule (src/wasm/pool.ts): the same steps run inline or on a thread pool,
 * bit-identical for any thread count (every entry is computed by the same kernel call shape
 * whichever thread runs it). Steps, each split over the threads:
 *   1. Gram: A's lower triangle = XᵀX + λI (rows dealt in chunks of about equal work);
 *   2. for each pivot block of EASE_BLOCK rows: invert the diagonal block and pack the block's
 *      columns; then sweep every other row (rows split so each thread's share of the lower
 *      triangle is about equal);
 *   3. B from −P on both triangles, diagonal 0 (tile rows split by triangle area).
 * Cost: O(Σ_u |u|²) for the Gram, n³/2 multiply-adds for the sweep, n² for the rest.
 */
import { transpose, type Csr } from '../data/csr.ts';
import type { Core } from '../wasm/core.ts';
import { EASE_BLOCK, EASE_FINISH_TILE, EASE_PANEL, EASE_ROW_BLOCK } from '../wasm/ease.ts';
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

/** Steps `easeSchedule` yields for a matrix of the given stride: Gram, two per pivot block, finish. */
export function easeStepCount(stride: number): number {
  return 2 + 2 * Math.ceil(stride / EASE_BLOCK);
}

/**
 * Fits B into `target.A` from the user → items matrix `byUser` (values as weights); writes
 * diag P (the inverse Gram's diagonal, kept for erasure) into `diag` (n floats). Scratch is
 * taken from the core and released at the end (or on failure).
 */
export function* easeSchedule(core: Core, byUser: Csr, target: EaseTarget, diag: Float32Array): Schedule {
  const { A, stride, n, lambda, threads: T } = target;
  const byItem = transpose(byUser, n);
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
        throw new ModelStateError(`ease: the item Gram matrix plus lambda·I is not numerically positive definite (pivot block at item ${k0}); raise lambda`);
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
