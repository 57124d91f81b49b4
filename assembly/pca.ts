// PCA kernels over a factor matrix (n rows of k floats, row-major): the O(n·k²) covariance and
// the O(n·m·k) projection. The host finds the top eigenvectors of the small k×k covariance
// itself. Centring is done on the fly, element by element, so no centred copy of the data (and
// no scratch) is needed, and nothing relies on Σxxᵀ − n·μμᵀ, which cancels badly in f32 when the
// mean is large next to the spread.
import { axpy, f32At, scale, setF32, zero } from './vec';
import { mirrorLower } from './linalg';

/** y += alpha · (x − m) over len floats. */
@inline
function axpyCentred(alpha: f32, x: usize, m: usize, y: usize, len: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const off = <usize>i << 2;
    const d = f32x4.sub(v128.load(x + off), v128.load(m + off));
    v128.store(y + off, f32x4.add(v128.load(y + off), f32x4.mul(va, d)));
  }
  for (; i < len; i++) {
    const off = <usize>i << 2;
    store<f32>(y + off, load<f32>(y + off) + alpha * (load<f32>(x + off) - load<f32>(m + off)));
  }
}

/** Σ (x[i] − m[i]) · c[i] over k floats. */
@inline
function dotCentred(x: usize, m: usize, c: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    const d = f32x4.sub(v128.load(x + off), v128.load(m + off));
    acc = f32x4.add(acc, f32x4.mul(d, v128.load(c + off)));
  }
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < k; i++) {
    const off = <usize>i << 2;
    sum += (load<f32>(x + off) - load<f32>(m + off)) * load<f32>(c + off);
  }
  return sum;
}

/**
 * mean (k floats) = the column means of the n points, then out (k×k, both triangles) = their
 * sample covariance Σ (x − mean)(x − mean)ᵀ / (n − 1), the n − 1 of numpy.cov and sklearn's
 * explained_variance_. n = 1 gives a zero matrix; n ≤ 0 gives zero mean and matrix.
 */
export function covariance(points: usize, n: i32, k: i32, mean: usize, out: usize): void {
  zero(mean, k);
  zero(out, k * k);
  if (n <= 0) return;
  const stride = <usize>k << 2;
  let x = points;
  for (let i = 0; i < n; i++) {
    axpy(1, x, mean, k);
    x += stride;
  }
  scale(<f32>1 / <f32>n, mean, k);
  // Lower triangle only (row a, columns ≤ a), half the work; mirrored once at the end.
  x = points;
  for (let i = 0; i < n; i++) {
    let row = out;
    for (let a = 0; a < k; a++) {
      const d = f32At(x, a) - f32At(mean, a);
      if (d != 0) axpyCentred(d, x, mean, row, a + 1);
      row += stride;
    }
    x += stride;
  }
  mirrorLower(out, k);
  if (n > 1) scale(<f32>1 / <f32>(n - 1), out, k * k);
}

/**
 * out[i·m + j] = (point i − mean) · components row j, for n points and m component rows of k
 * floats. Rows are independent, so threads can take disjoint ranges by offsetting points/out.
 */
export function project(
  points: usize,
  n: i32,
  k: i32,
  mean: usize,
  components: usize,
  m: i32,
  out: usize,
): void {
  const stride = <usize>k << 2;
  let x = points;
  let o = out;
  for (let i = 0; i < n; i++) {
    let comp = components;
    for (let j = 0; j < m; j++) {
      setF32(o, j, dotCentred(x, mean, comp, k));
      comp += stride;
    }
    x += stride;
    o += <usize>m << 2;
  }
}
