import { describe, expect, it } from 'vitest';
import { Core } from '../../src/wasm/core.ts';
import { kmeansAssign, kmeansUpdate } from '../../src/wasm/kmeans.ts';
import { covariance, project } from '../../src/wasm/pca.ts';
import { kmeans, pca2 } from '../../src/model/segments.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { Rng } from '../../src/data/rng.ts';
import {
  covarianceRef, inertiaRef, kmeansAssignRef, kmeansUpdateRef, projectRef,
} from '../reference/segments.ts';

const KS = [1, 3, 4, 5, 64];
const SENTINEL = 12345.5;

function randomArray(rng: Rng, n: number, sd = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + sd * rng.normal();
  return a;
}

/** Max |got − want| relative to the largest |want|. */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 1e-30;
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i])).toBe(true);
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return worst / scale;
}

/** `floats` f32 of output followed by a guard band the kernel must never write. */
function allocGuarded(core: Core, floats: number): { ptr: number; guardIntact: () => boolean } {
  const ptr = core.allocF32(floats + 16);
  core.f32(ptr, floats + 16).fill(SENTINEL);
  return { ptr, guardIntact: () => core.f32(ptr + floats * 4, 16).every((v) => v === SENTINEL) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, offA = 0, offB = 0, k = a.length) => {
  let s = 0;
  for (let t = 0; t < k; t++) s += a[offA + t] * b[offB + t];
  return s;
};

describe('kmeansAssign', () => {
  it.each(KS)('matches the reference: labels, distances, inertia (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(100 + k);
    const n = 53;
    const c = 7;
    const points = randomArray(rng, n * k, 1, 2);
    const centroids = randomArray(rng, c * k, 1, 2);
    const labels = allocGuarded(core, n);
    const dist = allocGuarded(core, n);
    const inertia = kmeansAssign(core, core.putF32(points), n, k, core.putF32(centroids), c, labels.ptr, dist.ptr);
    const ref = kmeansAssignRef(points, n, k, centroids, c);
    const got = core.i32(labels.ptr, n);
    for (let i = 0; i < n; i++) {
      // A label may only differ where the two nearest centroids are within f32 round-off.
      if (got[i] !== ref.labels[i]) expect(ref.margin[i]).toBeLessThan(1e-4 * (1 + ref.dist[i]));
    }
    expect(relError(core.f32(dist.ptr, n), ref.dist)).toBeLessThan(1e-5);
    expect(Math.abs(inertia - ref.inertia) / ref.inertia).toBeLessThan(1e-5);
    expect(labels.guardIntact() && dist.guardIntact()).toBe(true);
  });

  it.each(KS)('with one centroid labels everything 0 (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(110 + k);
    const points = randomArray(rng, 9 * k);
    const centroid = randomArray(rng, k);
    const labels = core.allocI32(9);
    const dist = core.allocF32(9);
    kmeansAssign(core, core.putF32(points), 9, k, core.putF32(centroid), 1, labels, dist);
    expect(Array.from(core.i32(labels, 9))).toEqual(new Array(9).fill(0));
    expect(relError(core.f32(dist, 9), kmeansAssignRef(points, 9, k, centroid, 1).dist)).toBeLessThan(1e-5);
  });

  it('breaks exact ties towards the lower index and gives 0 for a point on a centroid', () => {
    const core = new Core();
    const k = 5;
    const points = Float32Array.from([1, 2, 3, 4, 5, 0, 0, 0, 0, 0]);
    // Rows 1 and 3 both equal point 0; rows 0 and 2 are equidistant from point 1.
    const centroids = Float32Array.from([
      1, 0, 0, 0, 0,
      1, 2, 3, 4, 5,
      -1, 0, 0, 0, 0,
      1, 2, 3, 4, 5,
    ]);
    const labels = core.allocI32(2);
    const dist = core.allocF32(2);
    const inertia = kmeansAssign(core, core.putF32(points), 2, k, core.putF32(centroids), 4, labels, dist);
    expect(Array.from(core.i32(labels, 2))).toEqual([1, 0]);
    expect(Array.from(core.f32(dist, 2))).toEqual([0, 1]);
    expect(inertia).toBe(1);
  });
});

describe('kmeansUpdate', () => {
  it.each(KS)('writes cluster means and sizes; an empty cluster keeps its centroid (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(200 + k);
    const n = 61;
    const c = 6;
    const EMPTY = 4;
    const points = randomArray(rng, n * k, 2, -1);
    const labels = Int32Array.from({ length: n }, () => {
      const l = rng.int(c - 1);
      return l >= EMPTY ? l + 1 : l;
    });
    const previous = randomArray(rng, c * k);
    const out = allocGuarded(core, c * k);
    core.f32(out.ptr, c * k).set(previous);
    const counts = core.allocI32(c);
    core.i32(counts, c).fill(-7); // dirty: the kernel must clear it
    kmeansUpdate(core, core.putF32(points), n, k, core.putI32(labels), c, out.ptr, counts);
    const ref = kmeansUpdateRef(points, n, k, labels, c, previous);
    expect(Array.from(core.i32(counts, c))).toEqual(Array.from(ref.counts));
    expect(ref.counts[EMPTY]).toBe(0);
    const got = core.f32(out.ptr, c * k);
    expect(relError(got, ref.centroids)).toBeLessThan(1e-5);
    expect(Array.from(got.subarray(EMPTY * k, (EMPTY + 1) * k))).toEqual(Array.from(previous.subarray(EMPTY * k, (EMPTY + 1) * k)));
    expect(out.guardIntact()).toBe(true);
  });
});

describe('covariance', () => {
  it.each(KS)('writes the mean and the sample covariance of off-centre data (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(300 + k);
    const n = 47;
    const points = randomArray(rng, n * k, 1.5, 4);
    const mean = allocGuarded(core, k);
    const out = allocGuarded(core, k * k);
    covariance(core, core.putF32(points), n, k, mean.ptr, out.ptr);
    const ref = covarianceRef(points, n, k);
    expect(relError(core.f32(mean.ptr, k), ref.mean)).toBeLessThan(1e-5);
    expect(relError(core.f32(out.ptr, k * k), ref.cov)).toBeLessThan(1e-5);
    expect(mean.guardIntact() && out.guardIntact()).toBe(true);
  });

  it('is zero for a single point', () => {
    const core = new Core();
    const mean = core.allocF32(3);
    const out = core.putF32(new Array(9).fill(SENTINEL));
    covariance(core, core.putF32([1, -2, 3]), 1, 3, mean, out);
    expect(Array.from(core.f32(mean, 3))).toEqual([1, -2, 3]);
    expect(Array.from(core.f32(out, 9))).toEqual(new Array(9).fill(0));
  });
});

describe('project', () => {
  it.each(KS.flatMap((k) => [1, 2, 3].map((m) => [k, m])))('equals (x − mean)·component (k=%i, m=%i)', (k, m) => {
    const core = new Core();
    const rng = new Rng(400 + 10 * k + m);
    const n = 29;
    const points = randomArray(rng, n * k, 1, 3);
    const mean = randomArray(rng, k, 0.5, 3);
    const components = randomArray(rng, m * k);
    const out = allocGuarded(core, n * m);
    project(core, core.putF32(points), n, k, core.putF32(mean), core.putF32(components), m, out.ptr);
    expect(relError(core.f32(out.ptr, n * m), projectRef(points, n, k, mean, components, m))).toBeLessThan(1e-5);
    expect(out.guardIntact()).toBe(true);
  });
});

/** nPer points around each of `blobs` centres ≥ 30 apart (sd 1), shuffled; returns the truth. */
function gaussianBlobs(rng: Rng, blobs: number, nPer: number, k: number): { points: Float32Array; truth: Int32Array } {
  const n = blobs * nPer;
  const truth = Int32Array.from({ length: n }, (_, i) => i % blobs);
  rng.shuffle(truth);
  const points = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      // Centres are distinct sign patterns (±15) on the first two coordinates.
      const centre = t < 2 ? (((truth[i] >> t) & 1) ? 15 : -15) : 0;
      points[i * k + t] = centre + rng.normal();
    }
  }
  return { points, truth };
}

describe('kmeans', () => {
  it.each([2, 3, 8, 64])('recovers well-separated Gaussian blobs exactly, up to relabelling (k=%i)', (k) => {
    const core = new Core();
    const { points, truth } = gaussianBlobs(new Rng(500 + k), 4, 40, k);
    const n = truth.length;
    const result = kmeans(core, core.putF32(points), n, k, 4, { seed: 7 });
    const map = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (!map.has(truth[i])) map.set(truth[i], result.labels[i]);
      expect(result.labels[i]).toBe(map.get(truth[i]));
    }
    expect(new Set(map.values()).size).toBe(4);
    expect(result.iterations).toBeLessThan(25);
    expect(Math.abs(result.inertia - inertiaRef(points, n, k, result.centroids, result.labels)) / result.inertia).toBeLessThan(1e-5);
  });

  it.each([
    [2, 12],
    [5, 8],
    [64, 10],
  ])('inertia never increases across iterations (k=%i, clusters=%i)', (k, clusters) => {
    const core = new Core();
    const n = 300;
    const points = randomArray(new Rng(600 + k), n * k);
    const result = kmeans(core, core.putF32(points), n, k, clusters, { seed: 3, iterations: 100 });
    expect(result.history.length).toBe(result.iterations + 1);
    expect(result.history.length).toBeGreaterThan(3);
    for (let t = 1; t < result.history.length; t++) {
      expect(result.history[t]).toBeLessThanOrEqual(result.history[t - 1] + 1e-6 * result.history[0]);
    }
    expect(result.history[result.history.length - 1]).toBeLessThan(result.history[0]);
    expect(result.inertia).toBe(result.history[result.history.length - 1]);
    // Converged before the cap: the centroids are the means of the final labels.
    expect(result.iterations).toBeLessThan(100);
    const ref = kmeansUpdateRef(points, n, k, result.labels, clusters, result.centroids);
    expect(relError(result.centroids, ref.centroids)).toBeLessThan(1e-5);
  });

  it('is deterministic for a seed and frees its scratch memory', () => {
    const k = 6;
    const n = 200;
    const points = randomArray(new Rng(700), n * k);
    const run = (core: Core, ptr: number) => kmeans(core, ptr, n, k, 5, { seed: 11 });
    const core = new Core();
    const ptr = core.putF32(points);
    const before = core.used;
    const a = run(core, ptr);
    expect(core.used).toBe(before);
    const b = run(core, ptr);
    const other = new Core();
    const c = run(other, other.putF32(points));
    for (const r of [b, c]) {
      expect(Array.from(r.labels)).toEqual(Array.from(a.labels));
      expect(Array.from(r.centroids)).toEqual(Array.from(a.centroids));
      expect(r.history).toEqual(a.history);
    }
  });

  it('tolerates more clusters than distinct points', () => {
    const core = new Core();
    const k = 3;
    const rows = [[1, 1, 1], [1, 1, 1], [1, 1, 1], [5, 5, 5], [1, 1, 1], [5, 5, 5]];
    const result = kmeans(core, core.putF32(rows.flat()), rows.length, k, 4, { seed: 1 });
    expect(result.inertia).toBe(0);
    expect(result.centroids.every(Number.isFinite)).toBe(true);
    const l = result.labels;
    expect(new Set([l[0], l[1], l[2], l[4]]).size).toBe(1);
    expect(l[3]).toBe(l[5]);
    expect(l[0]).not.toBe(l[3]);
  });

  it('settles on integer data with more clusters than distinct values', () => {
    // Identical points share a centroid that is exactly their mean, so empty clusters are not
    // re-seeded onto round-off distances and the labels stop changing.
    for (const k of [1, 3]) {
      const rng = new Rng(20 + k);
      const n = 40;
      const points = Float32Array.from({ length: n * k }, () => Math.round(3 * rng.normal()));
      const core = new Core();
      const result = kmeans(core, core.putF32(points), n, k, 30, { seed: 3, iterations: 100 });
      expect(result.iterations).toBeLessThan(100);
      for (let t = 1; t < result.history.length; t++) expect(result.history[t]).toBeLessThanOrEqual(result.history[t - 1]);
    }
  });

  it('re-seeds a cluster that an update leaves empty', () => {
    // Found by search: with these points and seed, an update empties a cluster; it is
    // moved to the farthest point and all five clusters end up used.
    const rng = new Rng(879);
    const points = Float32Array.from({ length: 12 }, () => rng.int(4) * 3 + rng.next());
    const core = new Core();
    const result = kmeans(core, core.putF32(points), 12, 1, 5, { seed: 879 });
    expect(new Set(result.labels).size).toBe(5);
    expect(result.history.length).toBe(5);
    for (let t = 1; t < result.history.length; t++) expect(result.history[t]).toBeLessThan(result.history[t - 1]);
  });

  it('puts every point in its own cluster when clusters = n', () => {
    const core = new Core();
    const k = 4;
    const n = 9;
    const result = kmeans(core, core.putF32(randomArray(new Rng(800), n * k)), n, k, n, { seed: 2 });
    expect(new Set(result.labels).size).toBe(n);
    expect(result.inertia).toBe(0);
  });

  it('rejects a cluster count outside 1..n with a clear error', () => {
    const core = new Core();
    const ptr = core.putF32(randomArray(new Rng(900), 5 * 2));
    for (const clusters of [0, 6, 1.5]) {
      expect(() => kmeans(core, ptr, 5, 2, clusters, { seed: 1 })).toThrow(InvalidInputError);
      expect(() => kmeans(core, ptr, 5, 2, clusters, { seed: 1 })).toThrow(/clusters must be an integer from 1 to the number of points \(5\)/);
    }
    expect(() => kmeans(core, ptr, 5, 2, 2, { seed: 1, iterations: -1 })).toThrow(/iterations/);
  });
});

describe('pca2', () => {
  it.each([3, 16, 64])('finds the direction the data is stretched along (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(1000 + k);
    const n = 400;
    const u = randomArray(rng, k);
    const norm = Math.sqrt(dot(u, u));
    for (let t = 0; t < k; t++) u[t] /= norm;
    const points = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const along = 8 * rng.normal();
      for (let t = 0; t < k; t++) points[i * k + t] = 2 + rng.normal() + along * u[t];
    }
    const { components, explained, coords, mean } = pca2(core, core.putF32(points), n, k);
    expect(Math.abs(dot(components, u, 0, 0, k))).toBeGreaterThan(0.99);
    // Unit and orthogonal.
    expect(dot(components, components, 0, 0, k)).toBeCloseTo(1, 5);
    expect(dot(components, components, k, k, k)).toBeCloseTo(1, 5);
    expect(Math.abs(dot(components, components, 0, k, k))).toBeLessThan(1e-5);
    expect(explained[0]).toBeGreaterThan(explained[1]);
    expect(explained[0] + explained[1]).toBeLessThanOrEqual(1 + 1e-9);
    // Var along u is 64 + 1 of a total 64 + k.
    expect(explained[0]).toBeGreaterThan(0.5 * (65 / (64 + k)));
    const ref = covarianceRef(points, n, k);
    expect(relError(mean, ref.mean)).toBeLessThan(1e-5);
    expect(relError(coords, projectRef(points, n, k, ref.mean, components, 2))).toBeLessThan(1e-5);
  });

  it('matches a hand-computed 2-D example', () => {
    // Centred points (2,2), (−2,−2), (1,−1), (−1,1) shifted by (5, −3). Covariance (÷3) is
    // [[10, 6], [6, 10]] / 3: eigenvalues 16/3 along (1,1)/√2 and 4/3 along (1,−1)/√2, so the
    // explained ratios are 0.8 and 0.2.
    const core = new Core();
    const centred = [[2, 2], [-2, -2], [1, -1], [-1, 1]];
    const points = centred.flatMap(([x, y]) => [x + 5, y - 3]);
    const { components, explained, coords, mean } = pca2(core, core.putF32(points), 4, 2);
    expect(explained[0]).toBeCloseTo(0.8, 6);
    expect(explained[1]).toBeCloseTo(0.2, 6);
    expect(Array.from(mean)).toEqual([5, -3]);
    const r = Math.SQRT1_2;
    expect(components[0]).toBeCloseTo(r, 6); // sign fixed: largest entry positive
    expect(components[1]).toBeCloseTo(r, 6);
    const s = Math.sign(components[2]);
    expect(s * components[2]).toBeCloseTo(r, 6);
    expect(s * components[3]).toBeCloseTo(-r, 6);
    const want = [2 * Math.SQRT2, 0, -2 * Math.SQRT2, 0, 0, Math.SQRT2, 0, -Math.SQRT2];
    for (let i = 0; i < 4; i++) {
      expect(coords[2 * i]).toBeCloseTo(want[2 * i], 5);
      expect(s * coords[2 * i + 1]).toBeCloseTo(want[2 * i + 1], 5);
    }
  });

  it('is deterministic and handles degenerate data', () => {
    const core = new Core();
    const points = randomArray(new Rng(1100), 50 * 5);
    const ptr = core.putF32(points);
    const a = pca2(core, ptr, 50, 5);
    const b = pca2(core, ptr, 50, 5);
    expect(Array.from(b.components)).toEqual(Array.from(a.components));
    expect(Array.from(b.coords)).toEqual(Array.from(a.coords));
    // Every point identical: nothing to explain, but still unit orthogonal components.
    const flat = pca2(core, core.putF32(new Array(4 * 3).fill(2)), 4, 3);
    expect(flat.explained).toEqual([0, 0]);
    expect(Array.from(flat.coords)).toEqual(new Array(8).fill(0));
    expect(dot(flat.components, flat.components, 0, 0, 3)).toBeCloseTo(1, 6);
    expect(Math.abs(dot(flat.components, flat.components, 0, 3, 3))).toBeLessThan(1e-6);
  });

  it('rejects fewer than 2 dimensions', () => {
    const core = new Core();
    expect(() => pca2(core, core.putF32([1, 2, 3]), 3, 1)).toThrow(InvalidInputError);
  });
});
