// k-means kernels over a factor matrix (n rows of k floats, row-major). The host runs
// k-means++ seeding and the Lloyd loop in TypeScript — so a seeded Rng reproduces a run — and
// calls these for the two passes over the data. kmeansAssign treats every row on its own, so
// worker threads can take disjoint row ranges by offsetting points, outLabels and outDist.
import { axpy, i32At, setF32, setI32, zero } from './vec';

/**
 * Σ (a[i] − b[i])² over k floats, by direct differences rather than ‖a‖² − 2a·b + ‖b‖². The
 * expansion cancels badly in f32 when clusters sit far from the origin relative to their spread
 * (a factor matrix's often do), can come out negative, and would need every ‖c‖² kept in
 * scratch. Differences cost one more lane op per element, never go negative, and give exactly
 * 0 for a centroid copied from a point, which k-means++ seeding relies on.
 */
@inline
function sqDist(a: usize, b: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    const d = f32x4.sub(v128.load(a + off), v128.load(b + off));
    acc = f32x4.add(acc, f32x4.mul(d, d));
  }
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < k; i++) {
    const off = <usize>i << 2;
    const d = load<f32>(a + off) - load<f32>(b + off);
    sum += d * d;
  }
  return sum;
}

/**
 * For each of the n points: outLabels[i] = index of the nearest of the c centroids (squared
 * Euclidean distance; ties → lower index) and outDist[i] = that squared distance. Returns the
 * inertia Σ outDist, accumulated in f64 so it stays comparable across Lloyd iterations.
 * Needs c ≥ 1. A NaN distance never beats a number.
 */
export function kmeansAssign(
  points: usize,
  n: i32,
  k: i32,
  centroids: usize,
  c: i32,
  outLabels: usize,
  outDist: usize,
): f64 {
  const stride = <usize>k << 2;
  let inertia: f64 = 0;
  let x = points;
  for (let i = 0; i < n; i++) {
    let best = sqDist(x, centroids, k);
    let label = 0;
    let cj = centroids + stride;
    for (let j = 1; j < c; j++) {
      const d = sqDist(x, cj, k);
      // Strict < keeps the lower index on ties, so labels do not depend on float noise order.
      if (d < best || best != best) {
        best = d;
        label = j;
      }
      cj += stride;
    }
    setI32(outLabels, i, label);
    setF32(outDist, i, best);
    inertia += <f64>best;
    x += stride;
  }
  return inertia;
}

/**
 * outCentroids row j = mean of the points labelled j, counts[j] = how many there are. Labels
 * must lie in [0, c). On entry outCentroids holds the current centroids: a cluster with no
 * points keeps its row unchanged (count 0), because the mean of nothing is undefined and a
 * stale centroid never raises the inertia; the host may re-seed it. Sums are f32 in place
 * (no scratch), then divided by the count.
 */
export function kmeansUpdate(
  points: usize,
  n: i32,
  k: i32,
  labels: usize,
  c: i32,
  outCentroids: usize,
  counts: usize,
): void {
  const stride = <usize>k << 2;
  memory.fill(counts, 0, <usize>c << 2);
  for (let i = 0; i < n; i++) {
    const l = i32At(labels, i);
    setI32(counts, l, i32At(counts, l) + 1);
  }
  // Only rows that will receive points are cleared, which is what leaves empty clusters intact.
  for (let j = 0; j < c; j++) {
    if (i32At(counts, j) > 0) zero(outCentroids + <usize>j * stride, k);
  }
  let x = points;
  for (let i = 0; i < n; i++) {
    axpy(1, x, outCentroids + <usize>i32At(labels, i) * stride, k);
    x += stride;
  }
  for (let j = 0; j < c; j++) {
    const count = i32At(counts, j);
    if (count > 0) divide(outCentroids + <usize>j * stride, <f32>count, k);
  }
}

/**
 * x /= d over k floats. A true division rounds once where x · (1/d) rounds twice, so e.g. seven
 * points at −3 average to exactly −3 and a settled cluster shows distance 0, not round-off.
 */
@inline
function divide(x: usize, d: f32, k: i32): void {
  const vd = f32x4.splat(d);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    v128.store(x + off, f32x4.div(v128.load(x + off), vd));
  }
  for (; i < k; i++) {
    const off = <usize>i << 2;
    store<f32>(x + off, load<f32>(x + off) / d);
  }
}
