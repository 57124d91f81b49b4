import { Rng } from '../data/rng.ts';
import type { Core } from '../wasm/core.ts';
import { ivfAssignRows } from '../wasm/ivf.ts';
import { kmeansAssignRows, kmeansUpdate } from '../wasm/kmeans.ts';
import { runOverRows, type CorePool } from '../wasm/pool.ts';
import type { IndexArrays, ItemRows } from './item-index.ts';

export interface IndexBuildOptions {
  /**
   * Lists (k-means cells) before oversized ones are split; default √items / 2: the assignment
   * pass costs items × lists, and the bounds skip whole lists, so fewer, larger lists build in
   * half the time for a few more rows scanned per query.
   */
  lists?: number;
  /** Items sampled per list to place the centroids (the rest are only assigned). */
  samplePerList?: number;
  /** Lloyd iterations on the sample. */
  iterations?: number;
  /** Form lists in the norm-augmented space (default) rather than by raw k-means. */
  augment?: boolean;
  /** Lists of directions (unit vectors, biases ignored) for cosine similarity, instead of inner products. */
  unit?: boolean;
  seed?: number;
  /** Threads for the passes over rows (the calling thread and threads − 1 workers). */
  threads?: number;
}

const INDEX_DEFAULTS = { samplePerList: 32, iterations: 6, seed: 42 };

/** A list more than this many times the mean size is split: one scan of it would cost as much as many lists. */
const SPLIT_FACTOR = 4;

/**
 * Builds an inverted-file index over the `rows.size` items: centroids by k-means over a seeded
 * sample of the items (augmented with their bias and, when `augment`, the coordinate that puts
 * every item at the largest norm), every item assigned to its list in one kernel pass, then
 * oversized lists split by k-means of their own. Popularity skew makes them: the many rarely
 * seen items have near-zero vectors and all land in the cell at the augmentation's pole.
 * O(items · lists · k): tens of seconds for a million items; run it off the serving thread. The
 * passes over rows run on `pool`'s threads when given.
 */
export async function buildIndexArrays(core: Core, rows: ItemRows, options: IndexBuildOptions = {}, pool: CorePool | null = null): Promise<IndexArrays> {
  const { samplePerList, iterations, seed } = { ...INDEX_DEFAULTS, ...options };
  const unit = options.unit === true;
  const augment = options.augment !== false && !unit;
  const { k, size: n } = rows;
  const c = Math.max(1, Math.min(n, options.lists ?? Math.round(Math.sqrt(n) / 2)));
  const rng = new Rng(seed);
  const mark = core.mark();
  try {
    const factors = core.f32(rows.factors, n * k);
    const bias = rows.bias && !unit ? core.f32(rows.bias, n) : null;
    // Squared norms over factors and bias; for a unit index, the factor scale of each row.
    const sq = new Float32Array(n);
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      let s = bias ? bias[i] * bias[i] : 0;
      for (let f = i * k; f < (i + 1) * k; f++) s += factors[f] * factors[f];
      sq[i] = s;
      if (s > m2) m2 = s;
    }
    const scaleOf = (i: number) => (unit && sq[i] > 0 ? 1 / Math.sqrt(sq[i]) : 1);

    // Points of the sample as [x, b, a] (d = k + 2), clustered in that space.
    const d = k + 2;
    const sample = sampleOf(Int32Array.from({ length: n }, (_, i) => i), c * samplePerList, rng);
    const points = core.allocF32(sample.length * d);
    const view = core.f32(points, sample.length * d);
    sample.forEach((i, t) => {
      const s = scaleOf(i);
      for (let f = 0; f < k; f++) view[t * d + f] = factors[i * k + f] * s;
      view[t * d + k] = bias ? bias[i] : 0;
      view[t * d + k + 1] = augment ? Math.sqrt(Math.max(0, m2 - sq[i])) : 0;
    });
    const full = await lloyd(core, pool, points, sample.length, d, Math.min(c, sample.length), iterations, rng);
    const first = full.length / d;
    const meta = new Float32Array(3 * first);
    const centroids: number[] = [];
    for (let j = 0; j < first; j++) {
      for (let f = 0; f < k; f++) centroids.push(full[j * d + f]);
      meta[j] = full[j * d + k];
      meta[first + j] = full[j * d + k + 1];
      let s = 0;
      for (let f = j * d; f < (j + 1) * d; f++) s += full[f] * full[f];
      meta[2 * first + j] = s / 2;
    }
    const metaPtr = core.putF32(meta);
    const labelsPtr = core.allocI32(n);
    const firstCentroids = {
      centroids: core.putF32(centroids), bias: metaPtr, aug: metaPtr + first * 4, half: metaPtr + 2 * first * 4, count: first,
    };
    await runOverRows(core, pool, n, (from, to) => ivfAssignRows(from, to, rows.factors, bias ? rows.bias : 0, k, firstCentroids, m2, augment, unit, labelsPtr));
    const labels = core.i32(labelsPtr, n).slice();
    const biasOf = Array.from(meta.subarray(0, first));
    await splitLarge(core, pool, rows, labels, centroids, biasOf, scaleOf, iterations, samplePerList, rng);

    const lists = biasOf.length;
    // Each list's radius around its centroid, over factors and bias (or directions): what bounds its scores.
    const radius2 = new Float64Array(lists);
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      const s = scaleOf(i);
      let r = bias ? (bias[i] - biasOf[l]) ** 2 : 0;
      for (let f = 0; f < k; f++) r += (factors[i * k + f] * s - centroids[l * k + f]) ** 2;
      if (r > radius2[l]) radius2[l] = r;
    }
    const out = new Float32Array(4 * lists);
    out.set(biasOf);
    for (let l = 0; l < lists; l++) out[3 * lists + l] = Math.sqrt(radius2[l]);
    return { centroids: Float32Array.from(centroids), meta: out, ...bucket(labels, lists), extras: new Int32Array(0), augment, unit };
  } finally {
    core.release(mark);
  }
}

/**
 * Splits every list holding more than SPLIT_FACTOR × the mean into about mean-sized lists, by
 * k-means over its members' factors (scaled to unit length for a unit index). Appends the new
 * centroids (factor part) and their lists' mean bias; relabels the members in place.
 */
async function splitLarge(
  core: Core, pool: CorePool | null, rows: ItemRows, labels: Int32Array, centroids: number[], biasOf: number[],
  scaleOf: (i: number) => number, iterations: number, samplePerList: number, rng: Rng,
): Promise<void> {
  const { k, size: n } = rows;
  const mean = n / biasOf.length;
  const members = new Map<number, number[]>();
  const counts = new Int32Array(biasOf.length);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  for (let i = 0; i < n; i++) {
    if (counts[labels[i]] <= SPLIT_FACTOR * mean) continue;
    let list = members.get(labels[i]);
    if (!list) members.set(labels[i], (list = []));
    list.push(i);
  }
  const factors = core.f32(rows.factors, n * k);
  const bias = rows.bias ? core.f32(rows.bias, n) : null;
  for (const [list, items] of members) {
    const mark = core.mark();
    try {
      const points = core.allocF32(items.length * k);
      const view = core.f32(points, items.length * k);
      items.forEach((i, t) => {
        const s = scaleOf(i);
        for (let f = 0; f < k; f++) view[t * k + f] = factors[i * k + f] * s;
      });
      const parts = Math.ceil(items.length / mean);
      const sample = sampleOf(Int32Array.from(items, (_, t) => t), parts * samplePerList, rng);
      const samplePoints = core.allocF32(sample.length * k);
      const sampleView = core.f32(samplePoints, sample.length * k);
      sample.forEach((t, s) => sampleView.set(view.subarray(t * k, (t + 1) * k), s * k));
      const sub = await lloyd(core, pool, samplePoints, sample.length, k, Math.min(parts, sample.length), iterations, rng);
      const subCount = sub.length / k;
      const subLabels = core.allocI32(items.length);
      const subCentroids = core.putF32(sub);
      const dist = core.allocF32(items.length);
      await runOverRows(core, pool, items.length, (from, to) => kmeansAssignRows(from, to, points, k, subCentroids, subCount, subLabels, dist));
      // Sub-list 0 keeps the list's number; the others are appended.
      const ids = Array.from({ length: subCount }, (_, s) => (s === 0 ? list : biasOf.length + s - 1));
      for (let s = 0; s < subCount; s++) {
        const row = Array.from(sub.subarray(s * k, (s + 1) * k));
        if (s === 0) for (let f = 0; f < k; f++) centroids[list * k + f] = row[f];
        else centroids.push(...row);
      }
      const sums = new Float64Array(subCount);
      const sizes = new Int32Array(subCount);
      const assigned = core.i32(subLabels, items.length);
      items.forEach((i, t) => {
        const s = assigned[t];
        labels[i] = ids[s];
        sums[s] += bias ? bias[i] : 0;
        sizes[s]++;
      });
      for (let s = 0; s < subCount; s++) {
        const value = sizes[s] > 0 ? sums[s] / sizes[s] : 0;
        if (s === 0) biasOf[list] = value;
        else biasOf.push(value);
      }
    } finally {
      core.release(mark);
    }
  }
}

/**
 * Lloyd's k-means over the n points of d floats at `points`, from c distinct points drawn at
 * random (k-means++ seeding costs c passes over the sample: too many for a thousand lists).
 * A cluster left empty keeps its centroid. Returns the c×d centroids.
 */
async function lloyd(core: Core, pool: CorePool | null, points: number, n: number, d: number, c: number, iterations: number, rng: Rng): Promise<Float32Array> {
  const mark = core.mark();
  try {
    const centroids = core.allocF32(c * d);
    const view = core.f32(points, n * d);
    sampleOf(Int32Array.from({ length: n }, (_, i) => i), c, rng).forEach((i, j) => core.f32(centroids + j * d * 4, d).set(view.subarray(i * d, (i + 1) * d)));
    const labels = core.allocI32(n);
    const dist = core.allocF32(n);
    const counts = core.allocI32(c);
    for (let t = 0; t < iterations; t++) {
      await runOverRows(core, pool, n, (from, to) => kmeansAssignRows(from, to, points, d, centroids, c, labels, dist));
      kmeansUpdate(core, points, n, d, labels, c, centroids, counts);
    }
    return core.f32(centroids, c * d).slice();
  } finally {
    core.release(mark);
  }
}

/** Lists from labels by a counting sort: starts, counts, order and each item's position. */
function bucket(labels: Int32Array, c: number): Pick<IndexArrays, 'starts' | 'counts' | 'order' | 'positions'> {
  const n = labels.length;
  const counts = new Int32Array(c);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  const starts = new Int32Array(c);
  for (let j = 1; j < c; j++) starts[j] = starts[j - 1] + counts[j - 1];
  const fill = starts.slice();
  const order = new Int32Array(n);
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = fill[labels[i]]++;
    order[p] = i;
    positions[i] = p;
  }
  return { starts, counts, order, positions };
}

/** At most `count` distinct entries of `values`, seeded, ascending (a partial Fisher–Yates; shuffles `values`). */
function sampleOf(values: Int32Array, count: number, rng: Rng): Int32Array {
  const take = Math.min(count, values.length);
  for (let t = 0; t < take; t++) {
    const j = t + rng.int(values.length - t);
    const tmp = values[t];
    values[t] = values[j];
    values[j] = tmp;
  }
  return values.subarray(0, take).sort();
}
