// EASE (Steck 2019): B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, and its uses.
//
// The n×n matrix lives in one host buffer A (row stride `stride` floats, a multiple of 8; n is
// padded to it with identity rows so every block and panel is whole). The fit is three kinds of
// call, each over a share of the rows so threads can take disjoint shares:
//   easeGram        A's lower triangle = XᵀX + λI, from the item → users and user → items CSR;
//   per pivot block K = [k0, k1) of b rows (the block sweep: sweeping every pivot once turns a
//   symmetric positive-definite S into −S⁻¹):
//     easeInvertBlock  D = S_KK⁻¹ (b×b) and S_KK ← −D,
//     easePack         Vt = S's columns through K, packed in panels of 8 columns,
//     easeSweepRows    for rows i ∉ K: W_i = S_iK·D, then S_ij −= W_i·S_Kj over the lower
//                      triangle outside K, then S_iK ← W_i;
//   easeFinish      B_ij = A_ij / d_j on both triangles, B_ii = 0, where d = diag P = −diag A.
// Only the lower triangle is kept up to date until easeFinish; tiles that straddle the diagonal
// also write entries above it, which nothing reads. The sweep costs n³/2 multiply-adds, all but
// O(n²·b) of them in `tile`, a 4×8 register tile of f32x4 accumulators over packed operands.
// Why a sweep and not Cholesky, a triangular inverse and LᵀL: the same n³/2 multiply-adds, but
// one kernel shape instead of three, and every step splits over threads by rows with one
// synchronisation per step. The plain reference (float64 Gauss–Jordan) is in test/model/ease.test.ts.
import { axpy, f32At, i32At, setF32 } from './vec';

/** Columns per packed panel, and the alignment of every block boundary. */
const PANEL = 8;
const PANEL_BYTES: usize = PANEL << 2;
// A pivot below this fraction of its diagonal is f32 round-off: the matrix is not positive definite.
const PIVOT_EPS: f32 = 1e-6;

/**
 * Rows [rowStart, rowEnd) of A's lower triangle (columns 0..row) = XᵀX + λI for rows < n, and
 * identity rows for the padding rows n ≤ row < stride. Each row is a scatter of the items its
 * users share with it (user rows must be sorted by item, as buildCsr leaves them).
 */
export function easeGram(
  itemIndptr: usize, itemUsers: usize, itemValues: usize,
  userIndptr: usize, userItems: usize, userValues: usize,
  n: i32, lambda: f32, A: usize, stride: i32, rowStart: i32, rowEnd: i32,
): void {
  const rs = <usize>stride << 2;
  for (let a = rowStart; a < rowEnd; a++) {
    const row = A + <usize>a * rs;
    const diag = row + (<usize>a << 2);
    memory.fill(row, 0, <usize>(a + 1) << 2);
    if (a >= n) {
      store<f32>(diag, 1);
      continue;
    }
    const pEnd = i32At(itemIndptr, a + 1);
    for (let p = i32At(itemIndptr, a); p < pEnd; p++) {
      const u = i32At(itemUsers, p);
      const xa = f32At(itemValues, p);
      const qEnd = i32At(userIndptr, u + 1);
      for (let q = i32At(userIndptr, u); q < qEnd; q++) {
        const j = i32At(userItems, q);
        if (j > a) break;
        const cell = row + (<usize>j << 2);
        store<f32>(cell, load<f32>(cell) + xa * f32At(userValues, q));
      }
    }
    store<f32>(diag, load<f32>(diag) + lambda);
  }
}

/**
 * D = S_KK⁻¹ for the pivot block K = [k0, k0 + b) of A's lower triangle, by sweeping its b
 * pivots one at a time in `D` (b×b floats of workspace); A's block becomes −D (its part of
 * −S⁻¹) and Dp gets D packed for easeSweepRows: b/4 panels of b rows of 4 floats, panel q row k
 * holding D[k][4q..4q+3] (D is symmetric, so that is also column k of rows 4q..4q+3). Returns
 * false when a pivot fell below PIVOT_EPS of its diagonal (not numerically positive definite;
 * the pivot is clamped so everything stays finite, but the result is not an inverse).
 */
export function easeInvertBlock(A: usize, stride: i32, k0: i32, b: i32, D: usize, Dp: usize): bool {
  const rs = <usize>stride << 2;
  const ds = <usize>b << 2;
  for (let i = 0; i < b; i++) {
    const src = A + <usize>(k0 + i) * rs + (<usize>k0 << 2);
    for (let j = 0; j <= i; j++) {
      const v = f32At(src, j);
      setF32(D + <usize>i * ds, j, v);
      setF32(D + <usize>j * ds, i, v);
    }
  }
  let ok = true;
  for (let p = 0; p < b; p++) {
    const rowP = D + <usize>p * ds;
    let piv = f32At(rowP, p);
    const floor = f32At(A + <usize>(k0 + p) * rs + (<usize>k0 << 2), p) * PIVOT_EPS;
    if (!(piv > floor)) {
      piv = floor > 0 ? floor : 1;
      ok = false;
    }
    const inv: f32 = 1 / piv;
    for (let i = 0; i < b; i++) {
      if (i == p) continue;
      const rowI = D + <usize>i * ds;
      const f = f32At(rowI, p) * inv;
      axpy(-f, rowP, rowI, b);
      setF32(rowI, p, f);
    }
    for (let j = 0; j < b; j++) setF32(rowP, j, f32At(rowP, j) * inv);
    setF32(rowP, p, -inv);
  }
  // The sweep left −S_KK⁻¹: that is A's block; Dp is its negation, packed. (A panel walk is
  // contiguous; a walk down D's columns would hit the same few L1 sets for every b = 2^k.)
  for (let i = 0; i < b; i++) {
    const rowD = D + <usize>i * ds;
    const dst = A + <usize>(k0 + i) * rs + (<usize>k0 << 2);
    for (let j = 0; j <= i; j++) setF32(dst, j, f32At(rowD, j));
    for (let j = 0; j < b; j++) store<f32>(Dp + ((<usize>(j >> 2) * <usize>b + <usize>i) << 4) + (<usize>(j & 3) << 2), -f32At(rowD, j));
  }
  return ok;
}

/**
 * Packs S's columns through the pivot rows K = [k0, k1) for column panels [pStart, pEnd):
 * panel p (columns 8p..8p+7) is b rows of 8 floats at Vt + p·b·32 bytes, row k holding
 * S[k0 + k][8p..8p+7]. Panels inside K are skipped. From the lower triangle: columns left of K
 * are row segments of the pivot rows, columns right of K are column segments (a transpose).
 */
export function easePack(A: usize, stride: i32, k0: i32, k1: i32, Vt: usize, pStart: i32, pEnd: i32): void {
  const rs = <usize>stride << 2;
  const b = k1 - k0;
  const panelBytes = <usize>b * PANEL_BYTES;
  for (let p = pStart; p < pEnd; p++) {
    const j0 = p * PANEL;
    if (j0 >= k0 && j0 < k1) continue;
    const dst = Vt + <usize>p * panelBytes;
    if (j0 < k0) {
      let src = A + <usize>k0 * rs + (<usize>j0 << 2);
      for (let k = 0; k < b; k++) {
        const out = dst + <usize>k * PANEL_BYTES;
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        src += rs;
      }
    } else {
      for (let c = 0; c < PANEL; c++) {
        const src = A + <usize>(j0 + c) * rs + (<usize>k0 << 2);
        const out = dst + (<usize>c << 2);
        for (let k = 0; k < b; k++) store<f32>(out + <usize>k * PANEL_BYTES, f32At(src, k));
      }
    }
  }
}

/**
 * c + a·b per lane: fused (one rounding) in the relaxed-SIMD build of the core, which the host
 * loads where the runtime has relaxed SIMD (see src/wasm/module.ts); a multiply and an add in
 * the baseline build. The relaxed build's B differs from the baseline's in the last bits.
 */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * The 4×8 register tile: for r < 4, c < 8,  acc[r][c] = Σ_m a[m][r]·v[m][c], where a[m] is the
 * four floats at a + m·aStep and v[m] is the m-th 8-float row of a packed panel. Then
 * out[r][c] −= acc (subtract) or out[r][c] = acc, out rows `outRow` bytes apart.
 * Eight f32x4 accumulators, two panel loads and four splat loads (constant offsets) per m:
 * 15 of x64's 16 vector registers, the one V8 keeps for scratch being the 16th.
 */
@inline
function tile(out: usize, outRow: usize, a: usize, aStep: usize, v: usize, count: i32, subtract: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let pa = a;
  let pv = v;
  const end = v + <usize>count * PANEL_BYTES;
  while (pv < end) {
    const v0 = v128.load(pv);
    const v1 = v128.load(pv, 16);
    let w = v128.load32_splat(pa);
    c00 = madd(w, v0, c00);
    c01 = madd(w, v1, c01);
    w = v128.load32_splat(pa, 4);
    c10 = madd(w, v0, c10);
    c11 = madd(w, v1, c11);
    w = v128.load32_splat(pa, 8);
    c20 = madd(w, v0, c20);
    c21 = madd(w, v1, c21);
    w = v128.load32_splat(pa, 12);
    c30 = madd(w, v0, c30);
    c31 = madd(w, v1, c31);
    pa += aStep;
    pv += PANEL_BYTES;
  }
  if (subtract) {
    c00 = f32x4.sub(v128.load(out), c00);
    c01 = f32x4.sub(v128.load(out, 16), c01);
    c10 = f32x4.sub(v128.load(out + outRow), c10);
    c11 = f32x4.sub(v128.load(out + outRow, 16), c11);
    c20 = f32x4.sub(v128.load(out + 2 * outRow), c20);
    c21 = f32x4.sub(v128.load(out + 2 * outRow, 16), c21);
    c30 = f32x4.sub(v128.load(out + 3 * outRow), c30);
    c31 = f32x4.sub(v128.load(out + 3 * outRow, 16), c31);
  }
  v128.store(out, c00);
  v128.store(out, c01, 16);
  v128.store(out + outRow, c10);
  v128.store(out + outRow, c11, 16);
  v128.store(out + 2 * outRow, c20);
  v128.store(out + 2 * outRow, c21, 16);
  v128.store(out + 3 * outRow, c30);
  v128.store(out + 3 * outRow, c31, 16);
}

/**
 * The sweep of pivot block K = [k0, k1) over rows [rowStart, rowEnd) (multiples of 8; rows in
 * K are skipped), given Vt from easePack and Dp from easeInvertBlock. Rows go in blocks of `mc`
 * (a multiple of 8): W = the block's rows of S_RK·D, into the caller's scratch W (mc·b floats,
 * packed as Vt is); then every lower-triangle 4×8 tile of the block outside K loses W·Vt; then W
 * is written into S's K columns (the row's own, or column segments of the pivot rows when the
 * row lies above K). Nothing outside the given rows, their K entries and W is written.
 */
export function easeSweepRows(
  A: usize, stride: i32, k0: i32, k1: i32, Vt: usize, Dp: usize, rowStart: i32, rowEnd: i32, W: usize, mc: i32,
): void {
  const below = min(rowEnd, k0);
  for (let r0 = rowStart; r0 < below; r0 += mc) sweepBlock(A, stride, k0, k1, Vt, Dp, r0, min(r0 + mc, below), W);
  for (let r0 = max(rowStart, k1); r0 < rowEnd; r0 += mc) sweepBlock(A, stride, k0, k1, Vt, Dp, r0, min(r0 + mc, rowEnd), W);
}

@inline
function sweepBlock(A: usize, stride: i32, k0: i32, k1: i32, Vt: usize, Dp: usize, r0: i32, r1: i32, W: usize): void {
  const rs = <usize>stride << 2;
  const b = k1 - k0;
  const panelBytes = <usize>b * PANEL_BYTES;
  // W panels: Wt[m][c] = Σ_k D[k][m]·Vt[k][c] over the block's panels, from D's packed panels.
  for (let i0 = r0; i0 < r1; i0 += PANEL) {
    const vt = Vt + <usize>(i0 / PANEL) * panelBytes;
    const w = W + <usize>((i0 - r0) / PANEL) * panelBytes;
    for (let m = 0; m < b; m += 4) tile(w + <usize>m * PANEL_BYTES, PANEL_BYTES, Dp + (<usize>m * <usize>b << 2), 16, vt, b, false);
  }
  // The update, panel by panel (each stays in L1 while every row group of the block uses it).
  // Lower triangle: a 4-row group starting at i0 needs columns ≤ i0 + 3.
  const lowEnd = min(k0, r1);
  for (let j0 = 0; j0 < r1; j0 += PANEL) {
    if (j0 >= lowEnd && j0 < k1) {
      j0 = k1 - PANEL;
      continue;
    }
    const vt = Vt + <usize>(j0 / PANEL) * panelBytes;
    for (let i0 = max(r0, j0 & ~3); i0 < r1; i0 += 4) {
      const w = W + <usize>((i0 - r0) / PANEL) * panelBytes + (<usize>(i0 & 7) << 2);
      tile(A + <usize>i0 * rs + (<usize>j0 << 2), rs, w, PANEL_BYTES, vt, b, true);
    }
  }
  // S_iK ← W_i.
  for (let i0 = r0; i0 < r1; i0 += PANEL) {
    const w = W + <usize>((i0 - r0) / PANEL) * panelBytes;
    if (i0 < k0) {
      // Column i of the pivot rows: 8 consecutive floats of row k0 + m per panel row m.
      let dst = A + <usize>k0 * rs + (<usize>i0 << 2);
      for (let m = 0; m < b; m++) {
        const src = w + <usize>m * PANEL_BYTES;
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += rs;
      }
    } else {
      for (let c = 0; c < PANEL; c++) {
        const dst = A + <usize>(i0 + c) * rs + (<usize>k0 << 2);
        const src = w + (<usize>c << 2);
        for (let m = 0; m < b; m++) setF32(dst, m, load<f32>(src + <usize>m * PANEL_BYTES));
      }
    }
  }
}

/** Square tiles of the in-place mirror in easeFinish (16 floats: one cache line per tile row). */
const FINISH_TILE = 16;

/**
 * A holds −P in its lower triangle (P = (XᵀX + λI)⁻¹); `invD` holds 1/P_jj for j < n. For the
 * row tiles [tileStart, tileEnd) of FINISH_TILE rows, each lower entry A_ij (j < i < n) is read
 * once and becomes B_ij = A_ij·invD[j] below the diagonal and B_ji = A_ij·invD[i] above it
 * (B_ij = −P_ij / P_jj), and B_ii = 0; the padding columns [n, stride) of rows < n are zeroed.
 * Every pair is written by the tile row of its larger index only, so threads can take disjoint
 * tile rows.
 */
export function easeFinish(A: usize, stride: i32, n: i32, invD: usize, tileStart: i32, tileEnd: i32): void {
  const rs = <usize>stride << 2;
  for (let t = tileStart; t < tileEnd; t++) {
    const iStart = t * FINISH_TILE;
    const iEnd = min(iStart + FINISH_TILE, n);
    for (let j0 = 0; j0 < iEnd; j0 += FINISH_TILE) {
      for (let i = iStart; i < iEnd; i++) {
        const row = A + <usize>i * rs;
        const di = f32At(invD, i);
        const jEnd = min(j0 + FINISH_TILE, i);
        for (let j = j0; j < jEnd; j++) {
          const a = f32At(row, j);
          setF32(row, j, a * f32At(invD, j));
          setF32(A + <usize>j * rs, i, a * di);
        }
      }
    }
    for (let i = iStart; i < iEnd; i++) {
      const row = A + <usize>i * rs;
      setF32(row, i, 0);
      memory.fill(row + (<usize>n << 2), 0, <usize>(stride - n) << 2); // the padding columns
    }
  }
}

/**
 * out[0..n) = Σ_t values[t]·B[items[t]][0..n): a user's scores, their history times B. Four
 * rows per pass share each load and store of `out`.
 */
export function easeScores(B: usize, stride: i32, n: i32, items: usize, values: usize, len: i32, out: usize): void {
  const rs = <usize>stride << 2;
  memory.fill(out, 0, <usize>n << 2);
  let t = 0;
  for (; t + 4 <= len; t += 4) {
    const r0 = B + <usize>i32At(items, t) * rs;
    const r1 = B + <usize>i32At(items, t + 1) * rs;
    const r2 = B + <usize>i32At(items, t + 2) * rs;
    const r3 = B + <usize>i32At(items, t + 3) * rs;
    const w0 = f32x4.splat(f32At(values, t));
    const w1 = f32x4.splat(f32At(values, t + 1));
    const w2 = f32x4.splat(f32At(values, t + 2));
    const w3 = f32x4.splat(f32At(values, t + 3));
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const off = <usize>j << 2;
      const sum = f32x4.add(
        f32x4.add(f32x4.mul(w0, v128.load(r0 + off)), f32x4.mul(w1, v128.load(r1 + off))),
        f32x4.add(f32x4.mul(w2, v128.load(r2 + off)), f32x4.mul(w3, v128.load(r3 + off))),
      );
      v128.store(out + off, f32x4.add(v128.load(out + off), sum));
    }
    for (; j < n; j++) {
      setF32(out, j, f32At(out, j) + (f32At(values, t) * f32At(r0, j) + f32At(values, t + 1) * f32At(r1, j) +
        (f32At(values, t + 2) * f32At(r2, j) + f32At(values, t + 3) * f32At(r3, j))));
    }
  }
  for (; t < len; t++) axpy(f32At(values, t), B + <usize>i32At(items, t) * rs, out, n);
}

/**
 * Rows [rowStart, rowEnd) of B ← B·diag(alpha) − v·betaᵀ, then B_ii = 0: the Sherman–Morrison
 * downdate of B when one user's row x leaves XᵀX (see src/model/ease.ts for alpha, beta, v).
 */
export function easeDowndate(B: usize, stride: i32, n: i32, alpha: usize, beta: usize, v: usize, rowStart: i32, rowEnd: i32): void {
  const rs = <usize>stride << 2;
  for (let i = rowStart; i < rowEnd; i++) {
    const row = B + <usize>i * rs;
    const vi = f32At(v, i);
    const vv = f32x4.splat(vi);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const off = <usize>j << 2;
      v128.store(row + off, f32x4.sub(f32x4.mul(v128.load(row + off), v128.load(alpha + off)), f32x4.mul(vv, v128.load(beta + off))));
    }
    for (; j < n; j++) setF32(row, j, f32At(row, j) * f32At(alpha, j) - vi * f32At(beta, j));
    setF32(row, i, 0);
  }
}
