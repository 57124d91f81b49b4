/**
 * Segments and maps of a factor matrix already in core memory (n rows of k f32, row-major):
 * k-means clusters and a 2-D PCA projection. The O(n·k) passes run in the WebAssembly kernels;
 * the control flow (seeding, the Lloyd loop, the k×k eigenproblem) stays here, in float64 where
 * it is small, so a seed reproduces a run exactly.
 */
import { Rng } from '../data/rng.ts';
import { InvalidInputError } from '../errors.ts';
import type { Core } from '../wasm/core.ts';
import { kmeansAssign, kmeansUpdate } from '../wasm/kmeans.ts';
import { covariance, project } from '../wasm/pca.ts';

export interface KmeansOptions {
  seed: number;
  /** Cap on Lloyd iterations (update + assign); the loop stops earlier once labels settle. */
  iterations?: number;
}

export interface KmeansResult {
  /** Cluster of each point (n). */
  labels: Int32Array;
  /** clusters×k, row-major: the centroids the labels were assigned against. */
  centroids: Float32Array;
  /** Σ squared distance of each point to its centroid. */
  inertia: number;
  /** Lloyd iterations run. */
  iterations: number;
  /** Inertia after seeding, then after each iteration: never increases. */
  history: number[];
}

export interface Pca2Result {
  /** n×2, row-major: each point's coordinates on the two components. */
  coords: Float32Array;
  /** 2×k, row-major: unit, orthogonal principal directions, largest variance first. */
  components: Float32Array;
  /** Share of the total variance along each component. */
  explained: [number, number];
  /** k: the column means the points were centred by (to project new points the same way). */
  mean: Float32Array;
}

/**
 * k-means over the n points at `points`: k-means++ seeding drawn from Rng(seed), then Lloyd
 * iterations until the labels stop changing or `iterations` is reached. A cluster left empty by
 * an update is re-seeded at the point farthest from its centroid at the last assignment (never
 * at one already on its centroid, so with fewer distinct points than clusters some stay empty).
 * Throws InvalidInputError unless 1 ≤ clusters ≤ n: callers with few rows should clamp.
 */
export function kmeans(
  core: Core, points: number, n: number, k: number, clusters: number, options: KmeansOptions,
): KmeansResult {
  checkShape(n, k);
  if (!Number.isInteger(clusters) || clusters < 1 || clusters > n) {
    throw new InvalidInputError(`clusters must be an integer from 1 to the number of points (${n}); got ${clusters}`, 'clusters');
  }
  const cap = options.iterations ?? 25;
  if (!Number.isInteger(cap) || cap < 0) {
    throw new InvalidInputError(`iterations must be a non-negative integer; got ${cap}`, 'iterations');
  }
  const mark = core.mark();
  try {
    const centroids = core.allocF32(clusters * k);
    const labels = core.allocI32(n);
    const dist = core.allocF32(n);
    const counts = core.allocI32(clusters);
    seedPlusPlus(core, points, n, k, clusters, new Rng(options.seed), centroids, labels, dist);
    let inertia = kmeansAssign(core, points, n, k, centroids, clusters, labels, dist);
    const history = [inertia];
    let previous = core.i32(labels, n).slice();
    let done = 0;
    while (done < cap) {
      kmeansUpdate(core, points, n, k, labels, clusters, centroids, counts);
      reseedEmpty(core, points, n, k, clusters, centroids, counts, labels, dist);
      inertia = kmeansAssign(core, points, n, k, centroids, clusters, labels, dist);
      history.push(inertia);
      done++;
      const current = core.i32(labels, n);
      if (sameLabels(current, previous)) break;
      previous = current.slice();
    }
    return {
      labels: core.i32(labels, n).slice(),
      centroids: core.f32(centroids, clusters * k).slice(),
      inertia,
      iterations: done,
      history,
    };
  } finally {
    core.release(mark);
  }
}

/**
 * The top two principal components of the n points at `points` and every point's coordinates
 * on them. Components are unit vectors signed so their largest-magnitude entry is positive.
 */
export function pca2(core: Core, points: number, n: number, k: number): Pca2Result {
  checkShape(n, k);
  if (k < 2) throw new InvalidInputError(`pca2 needs at least 2 dimensions; got ${k}`, 'k');
  const mark = core.mark();
  try {
    const meanPtr = core.allocF32(k);
    const covPtr = core.allocF32(k * k);
    covariance(core, points, n, k, meanPtr, covPtr);
    const cov = Float64Array.from(core.f32(covPtr, k * k));
    let trace = 0;
    for (let a = 0; a < k; a++) trace += cov[a * k + a];
    const first = topEigen(cov, k, []);
    const second = topEigen(cov, k, [first.vector]);
    const components = new Float32Array(2 * k);
    components.set(first.vector, 0);
    components.set(second.vector, k);
    const out = core.allocF32(n * 2);
    project(core, points, n, k, meanPtr, core.putF32(components), 2, out);
    const ratio = (value: number) => (trace > 0 ? Math.max(value, 0) / trace : 0);
    return {
      coords: core.f32(out, n * 2).slice(),
      components,
      explained: [ratio(first.value), ratio(second.value)],
      mean: core.f32(meanPtr, k).slice(),
    };
  } finally {
    core.release(mark);
  }
}

function checkShape(n: number, k: number): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`need at least one point; got n = ${n}`, 'n');
  if (!Number.isInteger(k) || k < 1) throw new InvalidInputError(`dimension k must be a positive integer; got ${k}`, 'k');
}

/**
 * k-means++: the first centroid is a uniformly drawn point, each next one a point drawn with
 * probability ∝ D², its squared distance to the nearest centroid so far. D² is kept up to date
 * with one kmeansAssign against just the newest centroid per step: O(n·k) each, not O(n·j·k).
 */
function seedPlusPlus(
  core: Core, points: number, n: number, k: number, clusters: number, rng: Rng,
  centroids: number, labels: number, dist: number,
): void {
  copyRow(core, points, rng.int(n), centroids, 0, k);
  const nearest = new Float64Array(n).fill(Infinity);
  for (let j = 1; j < clusters; j++) {
    kmeansAssign(core, points, n, k, centroids + (j - 1) * k * 4, 1, labels, dist);
    const d = core.f32(dist, n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (d[i] < nearest[i]) nearest[i] = d[i];
      total += nearest[i];
    }
    copyRow(core, points, drawWeighted(nearest, total, rng), centroids, j, k);
  }
}

/** Index i with probability weights[i] / total; uniform when every weight is 0. */
function drawWeighted(weights: Float64Array, total: number, rng: Rng): number {
  // Every point already sits on a centroid (fewer distinct points than clusters): the duplicate
  // centroid stays empty, which the Lloyd loop tolerates.
  if (!(total > 0) || !Number.isFinite(total)) return rng.int(weights.length);
  const target = rng.next() * total;
  let sum = 0;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i] > 0)) continue;
    sum += weights[i];
    last = i;
    if (sum > target) return i;
  }
  return last; // round-off left the running sum a hair below target
}

// A point counts as already on its centroid when its squared distance is below this fraction
// of ‖x‖² + ‖c‖²: f32 means of identical points can miss them by an ulp per coordinate.
const ON_CENTROID = 1e-9;

/**
 * Moves each empty centroid onto a distinct point, farthest-from-its-centroid first (ties →
 * lower index), using the labels and distances of the last assignment. That point then costs
 * 0, so the next inertia falls. Points already on their centroid are never used: re-seeding
 * onto round-off distances would just shuffle identical points between coinciding centroids
 * until the iteration cap.
 */
function reseedEmpty(
  core: Core, points: number, n: number, k: number, clusters: number, centroids: number,
  counts: number, labels: number, dist: number,
): void {
  const count = core.i32(counts, clusters);
  const empty: number[] = [];
  for (let j = 0; j < clusters; j++) if (count[j] === 0) empty.push(j);
  if (empty.length === 0) return;
  const d = core.f32(dist, n);
  const far: number[] = [];
  for (let i = 0; i < n; i++) if (d[i] > 0) far.push(i);
  far.sort((a, b) => d[b] - d[a] || a - b);
  const label = core.i32(labels, n);
  let next = 0;
  for (const i of far) {
    if (next === empty.length) break;
    const x = core.f32(points + i * k * 4, k);
    const c = core.f32(centroids + label[i] * k * 4, k);
    let scale = 0;
    for (let t = 0; t < k; t++) scale += x[t] * x[t] + c[t] * c[t];
    if (!(d[i] > ON_CENTROID * scale)) continue;
    copyRow(core, points, i, centroids, empty[next++], k);
  }
}

function copyRow(core: Core, from: number, row: number, to: number, toRow: number, k: number): void {
  core.f32(to + toRow * k * 4, k).set(core.f32(from + row * k * 4, k));
}

function sameLabels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Power iteration stops once no entry of the unit vector moves by more than this…
const POWER_TOLERANCE = 1e-10;
// …or after this many steps (k×k mat-vecs: cheap for factor-sized k).
const POWER_MAX_STEPS = 2000;

/**
 * Largest eigenpair of the symmetric positive semi-definite k×k `matrix` restricted to the
 * complement of the unit vectors in `found` — deflation by projection: iterating
 * (I − VVᵀ)·M·(I − VVᵀ) equals M − Σ λ v vᵀ when the found vectors are exact eigenvectors and,
 * unlike subtracting, keeps the result orthogonal to them when they are not.
 */
function topEigen(matrix: Float64Array, k: number, found: Float64Array[]): { vector: Float64Array; value: number } {
  let v = startVector(k, found);
  for (let step = 0; step < POWER_MAX_STEPS; step++) {
    const w = matVec(matrix, v, k);
    orthogonalise(w, found);
    // v spans the null space of the deflated matrix: eigenvalue 0, v is already an answer.
    if (!(normalise(w) > 0)) break;
    let change = 0;
    for (let a = 0; a < k; a++) change = Math.max(change, Math.abs(w[a] - v[a]));
    v = w;
    if (change < POWER_TOLERANCE) break;
  }
  // Sign is arbitrary for an eigenvector; fix it so repeated runs and nearby data agree.
  let big = 0;
  for (let a = 1; a < k; a++) if (Math.abs(v[a]) > Math.abs(v[big])) big = a;
  if (v[big] < 0) for (let a = 0; a < k; a++) v[a] = -v[a];
  const mv = matVec(matrix, v, k);
  let value = 0;
  for (let a = 0; a < k; a++) value += v[a] * mv[a];
  return { vector: v, value };
}

/**
 * A fixed pseudo-random unit vector orthogonal to `found`: deterministic, and not orthogonal to
 * the answer the way a structured start such as (1, …, 1) can be. Draws again while the draw
 * lies (numerically) inside span(found), whose residual would be round-off, not a direction.
 */
function startVector(k: number, found: Float64Array[]): Float64Array {
  const rng = new Rng(0x9ca2);
  for (;;) {
    const v = Float64Array.from({ length: k }, () => rng.normal());
    const length = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    orthogonalise(v, found);
    if (normalise(v) > 1e-3 * length) return v;
  }
}

function matVec(matrix: Float64Array, v: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = 0;
    for (let b = 0; b < k; b++) s += matrix[a * k + b] * v[b];
    out[a] = s;
  }
  return out;
}

/** v −= (v·u)u for each unit u in `basis`. */
function orthogonalise(v: Float64Array, basis: Float64Array[]): void {
  for (const u of basis) {
    let s = 0;
    for (let a = 0; a < v.length; a++) s += v[a] * u[a];
    for (let a = 0; a < v.length; a++) v[a] -= s * u[a];
  }
}

/** Scales v to unit length in place and returns its former length (v untouched when 0). */
function normalise(v: Float64Array): number {
  let s = 0;
  for (let a = 0; a < v.length; a++) s += v[a] * v[a];
  const norm = Math.sqrt(s);
  if (norm > 0) for (let a = 0; a < v.length; a++) v[a] /= norm;
  return norm;
}
