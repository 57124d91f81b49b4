// EASE through the users, for data with fewer users than items (Woodbury):
//   P = (XᵀX + λI)⁻¹ = (I − Xᵀ(XXᵀ + λI)⁻¹X) / λ.
// With K = XXᵀ + λI (users × users: easeGram with the two CSRs swapped, inverted by the same
// block sweep, which leaves −K⁻¹ in K's lower triangle, mirrored by easeMirror) and
// Y = −K⁻¹X, so that M = XᵀY = −XᵀK⁻¹X:
//   P_ij = (δ_ij + M_ij) / λ,   B_ij = −P_ij / P_jj = −M_ij / (1 + M_jj)  (i ≠ j).
// Cost: users³/2 for the sweep, nnz·users for Y and items·nnz/4 f32x4 steps for M, instead of
// items³/2. Y is kept transposed and interleaved by four items — panel q holds, for every user u,
// the four floats Y[u][4q..4q+3] at Yt + (q·users + u)·16 bytes — so one v128 load serves four
// rows of M.
import { axpy, f32At, i32At, setF32 } from './vec';

/** Tile rows of easeMirror. */
const MIRROR_TILE = 16;

/**
 * Copies A's lower triangle onto its upper one (row stride `stride`, n rows) for tile rows
 * [tileStart, tileEnd) of MIRROR_TILE rows: each pair is written by the tile row of its larger
 * index, so threads can take disjoint tile rows.
 */
export function easeMirror(A: usize, stride: i32, n: i32, tileStart: i32, tileEnd: i32): void {
  const rs = <usize>stride << 2;
  for (let t = tileStart; t < tileEnd; t++) {
    const iStart = t * MIRROR_TILE;
    const iEnd = min(iStart + MIRROR_TILE, n);
    for (let j0 = 0; j0 < iEnd; j0 += MIRROR_TILE) {
      for (let i = iStart; i < iEnd; i++) {
        const row = A + <usize>i * rs;
        const jEnd = min(j0 + MIRROR_TILE, i);
        for (let j = j0; j < jEnd; j++) setF32(A + <usize>j * rs, i, f32At(row, j));
      }
    }
  }
}

/**
 * Yt panels for item groups [groupStart, groupEnd) (items 4q..4q+3 of group q; items ≥ n, the
 * padding, get zeros): Y[·][i] = Σ over item i's users u of x_ui · Kn[u], Kn = −K⁻¹ mirrored
 * (m×m, row stride `strideK`). Each item's column is summed into `scratch` (m floats) with
 * SIMD axpys and then spread into its lane of the panel.
 */
export function easeProject(
  itemIndptr: usize, itemUsers: usize, itemValues: usize, n: i32,
  Kn: usize, strideK: i32, m: i32, Yt: usize, groupStart: i32, groupEnd: i32, scratch: usize,
): void {
  const ks = <usize>strideK << 2;
  for (let q = groupStart; q < groupEnd; q++) {
    const panel = Yt + ((<usize>q * <usize>m) << 4);
    for (let r = 0; r < 4; r++) {
      const i = q * 4 + r;
      memory.fill(scratch, 0, <usize>m << 2);
      if (i < n) {
        const pEnd = i32At(itemIndptr, i + 1);
        for (let p = i32At(itemIndptr, i); p < pEnd; p++) axpy(f32At(itemValues, p), Kn + <usize>i32At(itemUsers, p) * ks, scratch, m);
      }
      const lane = panel + (<usize>r << 2);
      for (let u = 0; u < m; u++) store<f32>(lane + (<usize>u << 4), f32At(scratch, u));
    }
  }
}

/** denom[j] = 1 + M_jj = 1 + Σ over item j's users u of x_uj · Y[u][j], for items [itemStart, itemEnd). */
export function easeDualDiagonal(
  itemIndptr: usize, itemUsers: usize, itemValues: usize, Yt: usize, m: i32, itemStart: i32, itemEnd: i32, denom: usize,
): void {
  for (let j = itemStart; j < itemEnd; j++) {
    const lane = Yt + ((<usize>(j >> 2) * <usize>m) << 4) + (<usize>(j & 3) << 2);
    let s: f32 = 0;
    const pEnd = i32At(itemIndptr, j + 1);
    for (let p = i32At(itemIndptr, j); p < pEnd; p++) s += f32At(itemValues, p) * load<f32>(lane + (<usize>i32At(itemUsers, p) << 4));
    setF32(denom, j, 1 + s);
  }
}

/**
 * Rows 4q..4q+3 of B for groups [groupStart, groupEnd): B_ij = M_ij · negInv[j] with
 * M_ij = Σ over item j's users u of x_uj · Y[u][i] — one f32x4 step per interaction serves the
 * group's four rows — and negInv[j] = −1 / (1 + M_jj); then B_ii = 0 and the padding columns
 * [n, strideB) are zeroed. Rows ≥ n of the last group are written too, so B needs roundUp4(n) rows.
 */
export function easeDualRows(
  itemIndptr: usize, itemUsers: usize, itemValues: usize, n: i32, Yt: usize, m: i32,
  negInv: usize, B: usize, strideB: i32, groupStart: i32, groupEnd: i32,
): void {
  const rs = <usize>strideB << 2;
  for (let q = groupStart; q < groupEnd; q++) {
    const panel = Yt + ((<usize>q * <usize>m) << 4);
    const row0 = B + <usize>(q * 4) * rs;
    let p = i32At(itemIndptr, 0);
    for (let j = 0; j < n; j++) {
      let acc = f32x4.splat(0);
      const pEnd = i32At(itemIndptr, j + 1);
      for (; p < pEnd; p++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(f32At(itemValues, p)), v128.load(panel + (<usize>i32At(itemUsers, p) << 4))));
      }
      acc = f32x4.mul(acc, f32x4.splat(f32At(negInv, j)));
      const off = <usize>j << 2;
      store<f32>(row0 + off, f32x4.extract_lane(acc, 0));
      store<f32>(row0 + rs + off, f32x4.extract_lane(acc, 1));
      store<f32>(row0 + 2 * rs + off, f32x4.extract_lane(acc, 2));
      store<f32>(row0 + 3 * rs + off, f32x4.extract_lane(acc, 3));
    }
    for (let r = 0; r < 4; r++) {
      const i = q * 4 + r;
      if (i >= n) continue;
      const row = B + <usize>i * rs;
      setF32(row, i, 0);
      memory.fill(row + (<usize>n << 2), 0, <usize>(strideB - n) << 2); // the padding columns
    }
  }
}
