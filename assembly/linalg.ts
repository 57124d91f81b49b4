// Small dense symmetric linear algebra for the per-row systems ALS builds (size k or k+1).
// Matrices are row-major with row stride = n floats and live in the caller's scratch. The
// factorisation reads only the lower triangle (j ≤ i), so builders fill only that half.
import { axpy, dot, f32At, setF32 } from './vec';

// A pivot below this fraction of its diagonal is f32 round-off, not information: the matrix is
// singular or indefinite (e.g. λ = 0 with fewer entries than unknowns).
const PIVOT_EPS: f32 = 1e-6;
// Pivot used when the diagonal itself is not positive; keeps the solve finite instead of NaN.
const PIVOT_TINY: f32 = 1e-30;

/**
 * Solves A·x = b for a symmetric positive-definite n×n A in place: A's lower triangle becomes
 * its Cholesky factor L (A = L·Lᵀ) and b becomes x. Returns false when a pivot had to be
 * clamped (A not numerically positive definite); the result is then finite but approximate.
 */
export function choleskySolve(A: usize, b: usize, n: i32): bool {
  const stride = <usize>n << 2;
  let ok = true;
  // Row-by-row (Banachiewicz) order: row i of L needs only rows < i, and every inner product
  // is between two contiguous row prefixes, so `dot` vectorises it.
  let rowI = A;
  for (let i = 0; i < n; i++) {
    let rowJ = A;
    for (let j = 0; j < i; j++) {
      setF32(rowI, j, (f32At(rowI, j) - dot(rowI, rowJ, j)) / f32At(rowJ, j));
      rowJ += stride;
    }
    const aii = f32At(rowI, i);
    let d = aii - dot(rowI, rowI, i);
    const floor = aii > 0 ? aii * PIVOT_EPS : PIVOT_TINY;
    if (!(d > floor)) {
      d = floor;
      ok = false;
    }
    setF32(rowI, i, Mathf.sqrt(d));
    rowI += stride;
  }
  // Forward substitution L·y = b: y's solved prefix is b's prefix, again a contiguous dot.
  rowI = A;
  for (let i = 0; i < n; i++) {
    setF32(b, i, (f32At(b, i) - dot(rowI, b, i)) / f32At(rowI, i));
    rowI += stride;
  }
  // Back substitution Lᵀ·x = y. Column i of Lᵀ is row i of L, so once x_i is known its share is
  // removed from the earlier equations with one contiguous axpy instead of a strided column walk.
  for (let i = n - 1; i >= 0; i--) {
    rowI = A + <usize>i * stride;
    const xi = f32At(b, i) / f32At(rowI, i);
    setF32(b, i, xi);
    axpy(-xi, rowI, b, i);
  }
  return ok;
}

/** Lower triangle of the n-stride matrix A += alpha·y·yᵀ over its first len rows/columns. */
@inline
export function syrLower(A: usize, n: i32, alpha: f32, y: usize, len: i32): void {
  let row = A;
  const stride = <usize>n << 2;
  for (let i = 0; i < len; i++) {
    axpy(alpha * f32At(y, i), y, row, i + 1);
    row += stride;
  }
}

/** Copies the lower triangle of the n×n matrix A onto its upper triangle. */
export function mirrorLower(A: usize, n: i32): void {
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      store<f32>(A + ((<usize>j * n + i) << 2), load<f32>(A + ((<usize>i * n + j) << 2)));
    }
  }
}

/** A[i][i] += v for i < len (A has row stride n). */
@inline
export function addDiagonal(A: usize, n: i32, len: i32, v: f32): void {
  const step = (<usize>n + 1) << 2;
  let p = A;
  for (let i = 0; i < len; i++) {
    store<f32>(p, load<f32>(p) + v);
    p += step;
  }
}

/** out = M·v for a full (both triangles) n×n M; out must not alias v. Four rows per pass share v's loads. */
export function matVec(M: usize, v: usize, out: usize, n: i32): void {
  const stride = <usize>n << 2;
  let row = M;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(out + (<usize>i << 2), dot4(v, row, row + stride, row + 2 * stride, row + 3 * stride, n));
    row += stride << 2;
  }
  for (; i < n; i++) {
    setF32(out, i, dot(row, v, n));
    row += stride;
  }
}

// ---------------------------------------------------------------------------------------------
// Padded upper-triangle kernels for the ALS row solves.
//
// The ALS kernels keep each row's system as the UPPER triangle of a row-major matrix whose row
// stride is a multiple of 4 floats, with the right-hand side(s) stored as extra columns after the
// n unknowns (an augmented matrix [A | b]). In that form every hot loop is a contiguous,
// 16-byte-aligned f32x4 sweep along a row:
//   - building A from rank-1 terms: row i gets y[i]·y[i..] (four terms per pass, `rank4Upper`);
//   - the right-looking Cholesky (`cholUpper`): pivot row p is scaled, then every later row i
//     loses U[p][i]·U[p][i..]; four pivots are applied per pass over the trailing rows, and the
//     b columns ride along, so forward substitution costs nothing extra;
//   - back substitution: x_i needs U[i][i+1..n)·x[i+1..n), a contiguous dot.
// Loops start each row at floor4(i) rather than i so that vector accesses stay aligned; the
// 0–3 entries left of the diagonal that this touches are scratch garbage that nothing reads.
// ---------------------------------------------------------------------------------------------

@inline
function floor4(i: i32): i32 {
  return i & ~3;
}

/** [Σa, Σb, Σc, Σd] of four f32x4 accumulators. */
@inline
export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 4, 1, 5), f32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 4, 1, 5), f32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 1, 4, 5), f32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** The four dots [x·y0, x·y1, x·y2, x·y3] over k floats, sharing the loads of x. */
@inline
export function dot4(x: usize, y0: usize, y1: usize, y2: usize, y3: usize, k: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    const xv = v128.load(x + off);
    a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(y0 + off)));
    a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(y1 + off)));
    a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(y2 + off)));
    a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(y3 + off)));
  }
  let r = hsum4(a0, a1, a2, a3);
  if (i < k) {
    let t0: f32 = 0;
    let t1: f32 = 0;
    let t2: f32 = 0;
    let t3: f32 = 0;
    for (; i < k; i++) {
      const off = <usize>i << 2;
      const xs = load<f32>(x + off);
      t0 += xs * load<f32>(y0 + off);
      t1 += xs * load<f32>(y1 + off);
      t2 += xs * load<f32>(y2 + off);
      t3 += xs * load<f32>(y3 + off);
    }
    let t = f32x4.splat(t0);
    t = f32x4.replace_lane(t, 1, t1);
    t = f32x4.replace_lane(t, 2, t2);
    t = f32x4.replace_lane(t, 3, t3);
    r = f32x4.add(r, t);
  }
  return r;
}

/** Σ a[i]·b[i] for i in [from, to): scalar up to the next multiple of 4, then f32x4. */
@inline
export function dotRange(a: usize, b: usize, from: i32, to: i32): f32 {
  let sum: f32 = 0;
  let i = from;
  const head = min((from + 3) & ~3, to);
  for (; i < head; i++) sum += f32At(a, i) * f32At(b, i);
  let acc = f32x4.splat(0);
  for (; i + 4 <= to; i += 4) {
    const off = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  }
  sum += f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < to; i++) sum += f32At(a, i) * f32At(b, i);
  return sum;
}

/** y[c] += alpha·x[c] for c in [from, to), from a multiple of 4 (f32x4 body, scalar tail). */
@inline
function axpyFrom(alpha: f32, x: usize, y: usize, from: i32, to: i32): void {
  const va = f32x4.splat(alpha);
  let c = from;
  for (; c + 4 <= to; c += 4) {
    const off = <usize>c << 2;
    v128.store(y + off, f32x4.add(v128.load(y + off), f32x4.mul(va, v128.load(x + off))));
  }
  for (; c < to; c++) setF32(y, c, f32At(y, c) + alpha * f32At(x, c));
}

/**
 * Rows [rowStart, rowEnd) of the upper-triangle matrix A (row stride `stride` floats):
 * A[i][c] += s·Σ_q cq[i]·vq[c] for c in [floor4(i), colEnd), q = 0..3. The coefficient vectors
 * cq are indexed by row, the vectors vq by column (for a symmetric build cq = vq = y_q).
 * Two rows per pass share the four vector loads.
 */
export function rank4Upper(
  A: usize, stride: i32, rowStart: i32, rowEnd: i32, colEnd: i32, s: f32,
  c0: usize, c1: usize, c2: usize, c3: usize,
  v0: usize, v1: usize, v2: usize, v3: usize,
): void {
  const rs = <usize>stride << 2;
  const simdEnd = floor4(colEnd);
  let i = rowStart;
  let row0 = A + <usize>i * rs;
  for (; i + 1 < rowEnd; i += 2) {
    const ci = <usize>i << 2;
    const row1 = row0 + rs;
    const a0 = f32x4.splat(s * load<f32>(c0 + ci));
    const a1 = f32x4.splat(s * load<f32>(c1 + ci));
    const a2 = f32x4.splat(s * load<f32>(c2 + ci));
    const a3 = f32x4.splat(s * load<f32>(c3 + ci));
    const b0 = f32x4.splat(s * load<f32>(c0 + ci, 4));
    const b1 = f32x4.splat(s * load<f32>(c1 + ci, 4));
    const b2 = f32x4.splat(s * load<f32>(c2 + ci, 4));
    const b3 = f32x4.splat(s * load<f32>(c3 + ci, 4));
    let c = floor4(i);
    for (; c < simdEnd; c += 4) {
      const off = <usize>c << 2;
      const w0 = v128.load(v0 + off);
      const w1 = v128.load(v1 + off);
      const w2 = v128.load(v2 + off);
      const w3 = v128.load(v3 + off);
      const u0 = f32x4.add(f32x4.add(f32x4.mul(a0, w0), f32x4.mul(a1, w1)), f32x4.add(f32x4.mul(a2, w2), f32x4.mul(a3, w3)));
      const u1 = f32x4.add(f32x4.add(f32x4.mul(b0, w0), f32x4.mul(b1, w1)), f32x4.add(f32x4.mul(b2, w2), f32x4.mul(b3, w3)));
      v128.store(row0 + off, f32x4.add(v128.load(row0 + off), u0));
      v128.store(row1 + off, f32x4.add(v128.load(row1 + off), u1));
    }
    for (; c < colEnd; c++) {
      const off = <usize>c << 2;
      const w0 = load<f32>(v0 + off);
      const w1 = load<f32>(v1 + off);
      const w2 = load<f32>(v2 + off);
      const w3 = load<f32>(v3 + off);
      store<f32>(
        row0 + off,
        load<f32>(row0 + off) +
          (f32x4.extract_lane(a0, 0) * w0 + f32x4.extract_lane(a1, 0) * w1 +
            (f32x4.extract_lane(a2, 0) * w2 + f32x4.extract_lane(a3, 0) * w3)),
      );
      store<f32>(
        row1 + off,
        load<f32>(row1 + off) +
          (f32x4.extract_lane(b0, 0) * w0 + f32x4.extract_lane(b1, 0) * w1 +
            (f32x4.extract_lane(b2, 0) * w2 + f32x4.extract_lane(b3, 0) * w3)),
      );
    }
    row0 += rs << 1;
  }
  if (i < rowEnd) {
    const ci = <usize>i << 2;
    const a0 = f32x4.splat(s * load<f32>(c0 + ci));
    const a1 = f32x4.splat(s * load<f32>(c1 + ci));
    const a2 = f32x4.splat(s * load<f32>(c2 + ci));
    const a3 = f32x4.splat(s * load<f32>(c3 + ci));
    let c = floor4(i);
    for (; c < simdEnd; c += 4) {
      const off = <usize>c << 2;
      const u0 = f32x4.add(
        f32x4.add(f32x4.mul(a0, v128.load(v0 + off)), f32x4.mul(a1, v128.load(v1 + off))),
        f32x4.add(f32x4.mul(a2, v128.load(v2 + off)), f32x4.mul(a3, v128.load(v3 + off))),
      );
      v128.store(row0 + off, f32x4.add(v128.load(row0 + off), u0));
    }
    for (; c < colEnd; c++) {
      const off = <usize>c << 2;
      store<f32>(
        row0 + off,
        load<f32>(row0 + off) +
          (f32x4.extract_lane(a0, 0) * load<f32>(v0 + off) + f32x4.extract_lane(a1, 0) * load<f32>(v1 + off) +
            (f32x4.extract_lane(a2, 0) * load<f32>(v2 + off) + f32x4.extract_lane(a3, 0) * load<f32>(v3 + off))),
      );
    }
  }
}

/** Rows [rowStart, rowEnd) of the upper-triangle A: A[i][c] += s·cv[i]·v[c], c in [floor4(i), colEnd). */
export function rank1Upper(A: usize, stride: i32, rowStart: i32, rowEnd: i32, colEnd: i32, s: f32, cv: usize, v: usize): void {
  const rs = <usize>stride << 2;
  let row = A + <usize>rowStart * rs;
  for (let i = rowStart; i < rowEnd; i++) {
    axpyFrom(s * f32At(cv, i), v, row, floor4(i), colEnd);
    row += rs;
  }
}

/**
 * In-place Cholesky A = UᵀU of the n×n symmetric positive-definite matrix held as the upper
 * triangle of A (row stride `stride` floats, a multiple of 4; only entries [i][j ≥ i] are read),
 * with right-hand sides in columns [n, colEnd): they become U⁻ᵀb. Right-looking, four pivots at
 * a time. Pivots are clamped exactly as in `choleskySolve` (relative to the original diagonal,
 * saved in `diag`, n floats of scratch); returns false when one had to be.
 */
export function cholUpper(A: usize, stride: i32, n: i32, colEnd: i32, diag: usize): bool {
  const rs = <usize>stride << 2;
  let ok = true;
  let p = A;
  for (let i = 0; i < n; i++) {
    setF32(diag, i, f32At(p, i));
    p += rs;
  }
  for (let p0 = 0; p0 < n; p0 += 4) {
    const pe = min(p0 + 4, n);
    const panel = A + <usize>p0 * rs;
    let rowP = panel;
    for (let q = p0; q < pe; q++) {
      const orig = f32At(diag, q);
      let d = f32At(rowP, q);
      const floor = orig > 0 ? orig * PIVOT_EPS : PIVOT_TINY;
      if (!(d > floor)) {
        d = floor;
        ok = false;
      }
      const r = Mathf.sqrt(d);
      // Scale the pivot row (from the aligned column p0 on; what lies left of q is unused).
      const inv = f32x4.splat(1 / r);
      let c = p0;
      for (; c + 4 <= colEnd; c += 4) {
        const off = <usize>c << 2;
        v128.store(rowP + off, f32x4.mul(inv, v128.load(rowP + off)));
      }
      for (; c < colEnd; c++) setF32(rowP, c, f32At(rowP, c) / r);
      setF32(rowP, q, r);
      // Update the rest of the panel.
      let rowI = rowP + rs;
      for (let i = q + 1; i < pe; i++) {
        axpyFrom(-f32At(rowP, i), rowP, rowI, p0, colEnd);
        rowI += rs;
      }
      rowP += rs;
    }
    if (pe < n) {
      // pe = p0 + 4 here: the four finished panel rows update every later row at once.
      rank4Upper(A, stride, pe, n, colEnd, -1, panel, panel + rs, panel + 2 * rs, panel + 3 * rs,
        panel, panel + rs, panel + 2 * rs, panel + 3 * rs);
    }
  }
  return ok;
}

/**
 * x = U⁻¹y for U from `cholUpper` (n×n, row stride `stride` floats). y[i] is read at
 * y + i·yStep bytes, so it can be a column of A (yStep = row bytes) or a vector (yStep = 4);
 * x holds n floats and must not alias U or y.
 */
export function backSubUpper(A: usize, stride: i32, n: i32, y: usize, yStep: usize, x: usize): void {
  const rs = <usize>stride << 2;
  let row = A + <usize>(n - 1) * rs;
  let yi = y + <usize>(n - 1) * yStep;
  for (let i = n - 1; i >= 0; i--) {
    setF32(x, i, (load<f32>(yi) - dotRange(row, x, i + 1, n)) / f32At(row, i));
    row -= rs;
    yi -= yStep;
  }
}

/**
 * Forward substitution Uᵀz = y, in place, for each of the `rows` vectors held as rows of Z (row
 * stride zStride floats, k entries each), with U (k×k, row stride uStride) from `cholUpper`.
 * Four pivots per pass: z[p0..p0+4) is resolved against U's 4×4 diagonal block, then
 * z[p0+4..k) −= Σ_q z[p0+q]·U[p0+q][p0+4..k), a contiguous update of two rows at a time.
 */
export function forwardRows(U: usize, uStride: i32, k: i32, Z: usize, zStride: i32, rows: i32): void {
  const urs = <usize>uStride << 2;
  const zrs = <usize>zStride << 2;
  const simdEnd = floor4(k);
  for (let p0 = 0; p0 < k; p0 += 4) {
    const pe = min(p0 + 4, k);
    const u0 = U + <usize>p0 * urs;
    const u1 = u0 + urs;
    const u2 = u1 + urs;
    const u3 = u2 + urs;
    const off0 = <usize>p0 << 2;
    let z = Z;
    for (let e = 0; e < rows; e++) {
      let up = u0;
      for (let p = p0; p < pe; p++) {
        let v = f32At(z, p);
        let uq = u0;
        for (let q = p0; q < p; q++) {
          v -= f32At(z, q) * f32At(uq, p);
          uq += urs;
        }
        setF32(z, p, v / f32At(up, p));
        up += urs;
      }
      z += zrs;
    }
    if (pe == k) break;
    // pe = p0 + 4: the trailing update, two rows of Z per pass sharing the four U loads.
    z = Z;
    let e = 0;
    for (; e + 2 <= rows; e += 2) {
      const zb = z + zrs;
      const a0 = f32x4.splat(load<f32>(z + off0));
      const a1 = f32x4.splat(load<f32>(z + off0, 4));
      const a2 = f32x4.splat(load<f32>(z + off0, 8));
      const a3 = f32x4.splat(load<f32>(z + off0, 12));
      const b0 = f32x4.splat(load<f32>(zb + off0));
      const b1 = f32x4.splat(load<f32>(zb + off0, 4));
      const b2 = f32x4.splat(load<f32>(zb + off0, 8));
      const b3 = f32x4.splat(load<f32>(zb + off0, 12));
      let c = pe;
      for (; c < simdEnd; c += 4) {
        const off = <usize>c << 2;
        const w0 = v128.load(u0 + off);
        const w1 = v128.load(u1 + off);
        const w2 = v128.load(u2 + off);
        const w3 = v128.load(u3 + off);
        const da = f32x4.add(f32x4.add(f32x4.mul(a0, w0), f32x4.mul(a1, w1)), f32x4.add(f32x4.mul(a2, w2), f32x4.mul(a3, w3)));
        const db = f32x4.add(f32x4.add(f32x4.mul(b0, w0), f32x4.mul(b1, w1)), f32x4.add(f32x4.mul(b2, w2), f32x4.mul(b3, w3)));
        v128.store(z + off, f32x4.sub(v128.load(z + off), da));
        v128.store(zb + off, f32x4.sub(v128.load(zb + off), db));
      }
      for (; c < k; c++) {
        const w0 = f32At(u0, c);
        const w1 = f32At(u1, c);
        const w2 = f32At(u2, c);
        const w3 = f32At(u3, c);
        setF32(z, c, f32At(z, c) - (f32At(z, p0) * w0 + f32At(z, p0 + 1) * w1 + (f32At(z, p0 + 2) * w2 + f32At(z, p0 + 3) * w3)));
        setF32(zb, c, f32At(zb, c) - (f32At(zb, p0) * w0 + f32At(zb, p0 + 1) * w1 + (f32At(zb, p0 + 2) * w2 + f32At(zb, p0 + 3) * w3)));
      }
      z += zrs << 1;
    }
    if (e < rows) {
      const a0 = f32x4.splat(load<f32>(z + off0));
      const a1 = f32x4.splat(load<f32>(z + off0, 4));
      const a2 = f32x4.splat(load<f32>(z + off0, 8));
      const a3 = f32x4.splat(load<f32>(z + off0, 12));
      let c = pe;
      for (; c < simdEnd; c += 4) {
        const off = <usize>c << 2;
        const da = f32x4.add(
          f32x4.add(f32x4.mul(a0, v128.load(u0 + off)), f32x4.mul(a1, v128.load(u1 + off))),
          f32x4.add(f32x4.mul(a2, v128.load(u2 + off)), f32x4.mul(a3, v128.load(u3 + off))),
        );
        v128.store(z + off, f32x4.sub(v128.load(z + off), da));
      }
      for (; c < k; c++) {
        setF32(z, c, f32At(z, c) - (f32At(z, p0) * f32At(u0, c) + f32At(z, p0 + 1) * f32At(u1, c) +
          (f32At(z, p0 + 2) * f32At(u2, c) + f32At(z, p0 + 3) * f32At(u3, c))));
      }
    }
  }
}

/** Copies the upper triangle of the n×n (row stride n) matrix A onto its lower triangle. */
export function mirrorUpper(A: usize, n: i32): void {
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      store<f32>(A + ((<usize>i * n + j) << 2), load<f32>(A + ((<usize>j * n + i) << 2)));
    }
  }
}
