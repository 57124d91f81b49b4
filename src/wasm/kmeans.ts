import type { Core } from './core.ts';
import type { Call } from './pool.ts';

interface KmeansExports {
  kmeansAssign(points: number, n: number, k: number, centroids: number, c: number, outLabels: number, outDist: number): number;
  kmeansUpdate(points: number, n: number, k: number, labels: number, c: number, outCentroids: number, counts: number): void;
}

const api = (core: Core) => core.exports as unknown as KmeansExports;

/**
 * For each of the n points (rows of k f32): outLabels[i] (i32) = nearest of the c ≥ 1 centroids
 * by squared Euclidean distance, ties → lower index; outDist[i] (f32) = that squared distance.
 * Returns the inertia Σ outDist (summed in f64). Rows are independent: a thread may take a
 * row range by offsetting points, outLabels and outDist.
 */
export function kmeansAssign(
  core: Core, points: number, n: number, k: number, centroids: number, c: number, outLabels: number, outDist: number,
): number {
  return api(core).kmeansAssign(points, n, k, centroids, c, outLabels, outDist);
}

/** kmeansAssign for points [from, to) as a pool call (see runOverRows). */
export function kmeansAssignRows(
  from: number, to: number, points: number, k: number, centroids: number, c: number, outLabels: number, outDist: number,
): Call {
  return { fn: 'kmeansAssign', args: [points + from * k * 4, to - from, k, centroids, c, outLabels + from * 4, outDist + from * 4] };
}

/**
 * outCentroids (c×k f32, holding the current centroids on entry) row j = mean of the points
 * labelled j; counts (c i32) = cluster sizes. A cluster with no points keeps its row unchanged
 * (count 0) for the caller to re-seed if it wants. Labels must lie in [0, c).
 */
export function kmeansUpdate(
  core: Core, points: number, n: number, k: number, labels: number, c: number, outCentroids: number, counts: number,
): void {
  api(core).kmeansUpdate(points, n, k, labels, c, outCentroids, counts);
}
