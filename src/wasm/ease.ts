import type { Core } from './core.ts';

interface EaseExports {
  easeGram(
    itemIndptr: number, itemUsers: number, itemValues: number, userIndptr: number, userItems: number, userValues: number,
    n: number, lambda: number, A: number, stride: number, rowStart: number, rowEnd: number,
  ): void;
  easeInvertBlock(A: number, stride: number, k0: number, b: number, D: number, Dp: number): number;
  easePack(A: number, stride: number, k0: number, k1: number, Vt: number, pStart: number, pEnd: number): void;
  easeSweepRows(
    A: number, stride: number, k0: number, k1: number, Vt: number, Dp: number, rowStart: number, rowEnd: number, W: number, mc: number,
  ): void;
  easeFinish(A: number, stride: number, n: number, invD: number, tileStart: number, tileEnd: number): void;
  easeScores(B: number, stride: number, n: number, items: number, values: number, len: number, out: number): void;
  easeDowndate(B: number, stride: number, n: number, alpha: number, beta: number, v: number, rowStart: number, rowEnd: number): void;
}

const api = (core: Core) => core.exports as unknown as EaseExports;

/** Columns per packed panel: the matrix stride, every block boundary and every row range are multiples of it. */
export const EASE_PANEL = 8;
/** Pivot rows swept per block (b): larger blocks mean fewer passes over the matrix, a larger packed panel. */
export const EASE_BLOCK = 128;
/** Rows whose W is computed at once in easeSweepRows (mc): W is EASE_ROW_BLOCK·b floats of scratch per thread. */
export const EASE_ROW_BLOCK = 64;
/** Rows per tile of easeFinish. */
export const EASE_FINISH_TILE = 16;

/** The row stride (and padded size) of the n×n matrix: n rounded up to a whole panel. */
export const easeStride = (n: number): number => Math.ceil(n / EASE_PANEL) * EASE_PANEL;

/**
 * Rows [rowStart, rowEnd) of A's lower triangle = XᵀX + λI (identity for padding rows n ≤ r < stride),
 * from the item → users and user → items CSR already in core memory (user rows sorted by item).
 */
export function easeGram(
  core: Core, byItem: { indptr: number; indices: number; values: number }, byUser: { indptr: number; indices: number; values: number },
  n: number, lambda: number, A: number, stride: number, rowStart: number, rowEnd: number,
): void {
  api(core).easeGram(byItem.indptr, byItem.indices, byItem.values, byUser.indptr, byUser.indices, byUser.values, n, lambda, A, stride, rowStart, rowEnd);
}

/**
 * Dp = the inverse D of A's diagonal block [k0, k0 + b), packed for easeSweepRows; the block
 * becomes −D. D and Dp are b² floats each (D is workspace). False when the block was not
 * numerically positive definite.
 */
export function easeInvertBlock(core: Core, A: number, stride: number, k0: number, b: number, D: number, Dp: number): boolean {
  return api(core).easeInvertBlock(A, stride, k0, b, D, Dp) !== 0;
}

/** Packs the columns through pivot rows [k0, k1) for column panels [pStart, pEnd) into Vt (stride·b floats). */
export function easePack(core: Core, A: number, stride: number, k0: number, k1: number, Vt: number, pStart: number, pEnd: number): void {
  api(core).easePack(A, stride, k0, k1, Vt, pStart, pEnd);
}

/** The sweep of pivot block [k0, k1) over rows [rowStart, rowEnd) (see assembly/ease.ts); W: EASE_ROW_BLOCK·b floats. */
export function easeSweepRows(
  core: Core, A: number, stride: number, k0: number, k1: number, Vt: number, Dp: number, rowStart: number, rowEnd: number, W: number,
): void {
  api(core).easeSweepRows(A, stride, k0, k1, Vt, Dp, rowStart, rowEnd, W, EASE_ROW_BLOCK);
}

/** Turns A's lower triangle (−P) into the full B for tile rows [tileStart, tileEnd); invD[j] = 1/P_jj. */
export function easeFinish(core: Core, A: number, stride: number, n: number, invD: number, tileStart: number, tileEnd: number): void {
  api(core).easeFinish(A, stride, n, invD, tileStart, tileEnd);
}

/** out (n floats) = Σ_t values[t]·B[items[t]]: the scores of a history. */
export function easeScores(core: Core, B: number, stride: number, n: number, items: number, values: number, len: number, out: number): void {
  api(core).easeScores(B, stride, n, items, values, len, out);
}

/** Rows [rowStart, rowEnd) of B ← B·diag(alpha) − v·betaᵀ, diagonal kept 0 (alpha, beta, v: n floats each). */
export function easeDowndate(
  core: Core, B: number, stride: number, n: number, alpha: number, beta: number, v: number, rowStart: number, rowEnd: number,
): void {
  api(core).easeDowndate(B, stride, n, alpha, beta, v, rowStart, rowEnd);
}
