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

/** out = M·v for a full (both triangles) n×n M; out must not alias v. */
@inline
export function matVec(M: usize, v: usize, out: usize, n: i32): void {
  const stride = <usize>n << 2;
  let row = M;
  for (let i = 0; i < n; i++) {
    setF32(out, i, dot(row, v, n));
    row += stride;
  }
}
