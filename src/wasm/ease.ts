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
  easeMirror(A: number, stride: number, n: number, tileStart: number, tileEnd: number): void;
  easeProject(
    itemIndptr: number, itemUsers: number, itemValues: number, n: number,
    Kn: number, strideK: number, m: number, Yt: number, groupStart: number, groupEnd: number, scratch: number,
  ): void;
  easeDualDiagonal(itemIndptr: number, itemUsers: number, itemValues: number, Yt: number, m: number, itemStart: number, itemEnd: number, denom: number): void;
  easeDualRows(
    itemIndptr: number, itemUsers: number, itemValues: number, n: number, Yt: number, m: number,
    negInv: number, B: number, strideB: number, groupStart: number, groupEnd: number,
  ): void;
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

// The users' side (assembly/ease-dual.ts): P = (I − Xᵀ(XXᵀ + λI)⁻¹X)/λ when users are fewer than items.

/** Rows of the Yt panels (items per group) and of easeMirror's tiles. */
export const EASE_DUAL_GROUP = 4;
export const EASE_MIRROR_TILE = 16;

/** Copies A's lower triangle onto its upper one for tile rows [tileStart, tileEnd). */
export function easeMirror(core: Core, A: number, stride: number, n: number, tileStart: number, tileEnd: number): void {
  api(core).easeMirror(A, stride, n, tileStart, tileEnd);
}

/** Yt panels (four items per group, m users each) = −K⁻¹X for item groups [groupStart, groupEnd); scratch: m floats. */
export function easeProject(
  core: Core, byItem: { indptr: number; indices: number; values: number }, n: number,
  Kn: number, strideK: number, m: number, Yt: number, groupStart: number, groupEnd: number, scratch: number,
): void {
  api(core).easeProject(byItem.indptr, byItem.indices, byItem.values, n, Kn, strideK, m, Yt, groupStart, groupEnd, scratch);
}

/** denom[j] = 1 + M_jj for items [itemStart, itemEnd) (M = XᵀYt). */
export function easeDualDiagonal(
  core: Core, byItem: { indptr: number; indices: number; values: number }, Yt: number, m: number, itemStart: number, itemEnd: number, denom: number,
): void {
  api(core).easeDualDiagonal(byItem.indptr, byItem.indices, byItem.values, Yt, m, itemStart, itemEnd, denom);
}

/** Rows of B for item groups [groupStart, groupEnd): B_ij = M_ij·negInv[j], B_ii = 0. */
export function easeDualRows(
  core: Core, byItem: { indptr: number; indices: number; values: number }, n: number, Yt: number, m: number,
  negInv: number, B: number, strideB: number, groupStart: number, groupEnd: number,
): void {
  api(core).easeDualRows(byItem.indptr, byItem.indices, byItem.values, n, Yt, m, negInv, B, strideB, groupStart, groupEnd);
}
