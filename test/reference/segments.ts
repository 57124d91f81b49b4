/**
 * Plain TypeScript (float64) references for the k-means and PCA kernels in assembly/kmeans.ts
 * and assembly/pca.ts: same argument meaning and order, host arrays instead of pointers.
 */
type Vec = ArrayLike<number>;

/** Squared Euclidean distance between row i of a and row j of b (both stride k). */
export function sqDistRef(a: Vec, i: number, b: Vec, j: number, k: number): number {
  let s = 0;
  for (let t = 0; t < k; t++) s += (a[i * k + t] - b[j * k + t]) ** 2;
  return s;
}

/**
 * Nearest centroid of each point (ties → lower index), its squared distance, the inertia, and
 * each point's margin: second-nearest minus nearest distance (Infinity when c = 1), which says
 * how far float32 round-off may go before the label could legitimately differ.
 */
export function kmeansAssignRef(
  points: Vec, n: number, k: number, centroids: Vec, c: number,
): { labels: Int32Array; dist: Float64Array; inertia: number; margin: Float64Array } {
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  const margin = new Float64Array(n);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let second = Infinity;
    for (let j = 0; j < c; j++) {
      const d = sqDistRef(points, i, centroids, j, k);
      if (d < best) {
        second = best;
        best = d;
        labels[i] = j;
      } else if (d < second) {
        second = d;
      }
    }
    dist[i] = best;
    margin[i] = second - best;
    inertia += best;
  }
  return { labels, dist, inertia, margin };
}

/** Cluster means and sizes; an empty cluster keeps its row of `previous`. */
export function kmeansUpdateRef(
  points: Vec, n: number, k: number, labels: Vec, c: number, previous: Vec,
): { centroids: Float64Array; counts: Int32Array } {
  const sums = new Float64Array(c * k);
  const counts = new Int32Array(c);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    counts[l]++;
    for (let t = 0; t < k; t++) sums[l * k + t] += points[i * k + t];
  }
  const centroids = new Float64Array(c * k);
  for (let j = 0; j < c; j++) {
    for (let t = 0; t < k; t++) {
      centroids[j * k + t] = counts[j] > 0 ? sums[j * k + t] / counts[j] : previous[j * k + t];
    }
  }
  return { centroids, counts };
}

/** Σ squared distance of each point to the centroid its label names. */
export function inertiaRef(points: Vec, n: number, k: number, centroids: Vec, labels: Vec): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += sqDistRef(points, i, centroids, labels[i], k);
  return s;
}

/** Column means and the sample covariance (divisor n − 1; zero for n = 1), k×k full. */
export function covarianceRef(points: Vec, n: number, k: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) mean[t] += points[i * k + t] / n;
  const cov = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        cov[a * k + b] += (points[i * k + a] - mean[a]) * (points[i * k + b] - mean[b]);
      }
    }
  }
  const divisor = Math.max(n - 1, 1);
  for (let t = 0; t < k * k; t++) cov[t] /= divisor;
  return { mean, cov };
}

/** out[i·m + j] = (point i − mean) · component j. */
export function projectRef(points: Vec, n: number, k: number, mean: Vec, components: Vec, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (points[i * k + t] - mean[t]) * components[j * k + t];
      out[i * m + j] = s;
    }
  }
  return out;
}
