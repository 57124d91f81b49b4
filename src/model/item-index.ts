import type { Core } from '../wasm/core.ts';
import { ivfGather, ivfScan, type Centroids, type Lists } from '../wasm/ivf.ts';
import { scoreItems, selectTop } from '../wasm/topk.ts';
import type { ModelArray } from './format.ts';

/** The item matrix an index searches: read live at every query (it moves when the catalog grows). */
export interface ItemRows {
  factors: number;
  /** Item biases (0 = none): part of a rating model's score. */
  bias: number;
  k: number;
  /** Items in the matrix now; those past the index's `indexed` are scanned exactly. */
  size: number;
}

/** An index as plain arrays: what `build` produces and what a model file stores. */
export interface IndexArrays {
  /** c×k: the centroids' factor coordinates. */
  centroids: Float32Array;
  /**
   * 4×c: each centroid's bias coordinate, augmentation coordinate, ‖c'‖²/2, then its list's
   * radius (the farthest item's distance over factors and bias).
   */
  meta: Float32Array;
  /** c list starts into `order` (a list's room: up to the next start) and c current lengths. */
  starts: Int32Array;
  counts: Int32Array;
  /** Item indices, list after list. */
  order: Int32Array;
  /** Per indexed item: its position in `order`, or RETIRED, or EXTRA. */
  positions: Int32Array;
  /** Indexed items taken out of their list because their vector changed: always scanned. */
  extras: Int32Array;
  /** Norm-augmented lists (Bachrach et al. 2014), else raw k-means cells probed by inner product. */
  augment: boolean;
  /** Lists of directions, searched by cosine similarity (similar items), instead of inner products. */
  unit: boolean;
}

const RETIRED = -1;
const EXTRA = -2;
/** Rows copied per step of `gathering`: 64 k floats each, a few milliseconds. */
const GATHER_ROWS = 50_000;

/** A ranked candidate list: item indices and their exact scores, best first. */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * An approximate top-N index over a factor model's items (an inverted file, see
 * assembly/ivf.ts): centroids and lists in the model's core, searched in two kernel calls.
 * Scores are always exact; only which items get scored is approximate, so a caller that needs
 * more (filters, exclusions) asks for a deeper list and falls back to a full scan.
 *
 * A contiguous index keeps a copy of the listed vectors in list order (one more item matrix):
 * a list is then read as one block rather than rows gathered from all over the matrix, about
 * four times faster once the lists scanned outgrow the cache (a deep, filtered search).
 *
 * Kept current in place: items added after the build are scanned exactly on every query (the
 * tail past `indexed`), an indexed item whose vector changes leaves its list for the always-scanned
 * extras, and a retired item leaves the lists altogether until it returns.
 */
export class ItemIndex {
  private readonly c: number;
  private readonly k: number;
  private readonly centroids: Centroids;
  private readonly lists: Lists;
  /** ‖centroid‖ over its factor coordinates, for cosine bounds. */
  private readonly centroidNorms: Float32Array;
  private readonly radii: Float32Array;
  private readonly positions: Int32Array;
  private readonly startsView: Int32Array;
  private extras: number[];
  private extrasPtr = 0;
  private extrasCapacity = 0;
  readonly augment: boolean;
  /** Searches rank by cosine similarity: lists of directions, item scores dot / ‖item‖. */
  readonly unit: boolean;

  /** Where the copy of the listed vectors goes when contiguous (filled by `gathering`), else 0. */
  private readonly listed: number;

  constructor(private readonly core: Core, arrays: IndexArrays, contiguous = false) {
    const c = arrays.starts.length;
    const k = arrays.centroids.length / Math.max(c, 1);
    this.c = c;
    this.k = k;
    this.augment = arrays.augment;
    this.unit = arrays.unit;
    const put = (a: Float32Array) => core.putF32(a);
    const meta = put(arrays.meta);
    this.centroids = { centroids: put(arrays.centroids), bias: meta, aug: meta + c * 4, half: meta + 2 * c * 4, count: c };
    // Scans read rows by item index until `gathering` has filled the copy.
    this.lists = { starts: core.putI32(arrays.starts), counts: core.putI32(arrays.counts), order: core.putI32(arrays.order), listed: 0 };
    this.listed = contiguous ? core.allocF32(arrays.order.length * k) : 0;
    this.radii = arrays.meta.slice(3 * c, 4 * c);
    this.centroidNorms = new Float32Array(c);
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let f = j * k; f < (j + 1) * k; f++) s += arrays.centroids[f] ** 2;
      this.centroidNorms[j] = Math.sqrt(s);
    }
    this.positions = arrays.positions.slice();
    this.startsView = arrays.starts.slice();
    this.extras = Array.from(arrays.extras);
    this.syncExtras();
  }

  /** Items covered by the lists (those past it are the exactly scanned tail). */
  get indexed(): number {
    return this.positions.length;
  }

  get listCount(): number {
    return this.c;
  }

  /** Bytes the index holds, in the core and beside it: centroids, lists, positions, the listed copy. */
  get bytes(): number {
    const core = this.c * (this.k + 4) + this.c * 2 + this.indexed + (this.listed ? this.indexed * this.k : 0) + this.extrasCapacity;
    const host = this.indexed + this.c * 3 + this.extras.length;
    return (core + host) * 4;
  }

  /**
   * Copies the listed vectors into list order, GATHER_ROWS rows per step (a few milliseconds), for
   * a caller that serves between steps; a contiguous index reads lists from the copy once done.
   */
  *gathering(rows: ItemRows): Generator<void, void> {
    if (!this.listed) return;
    for (let from = 0; from < this.indexed; from += GATHER_ROWS) {
      if (from > 0) yield;
      ivfGather(this.core, rows.factors, this.k, this.lists.order, from, Math.min(this.indexed, from + GATHER_ROWS), this.listed);
    }
    this.lists.listed = this.listed;
  }

  /** `gathering` in one go. */
  gather(rows: ItemRows): void {
    for (const step = this.gathering(rows); !step.next().done; );
  }

  /**
   * The best `m` items for the query vector at `query`, excluding the ascending `exclude`: the
   * extras and the tail, then at most `probes` lists, skipping any whose bound (the highest score
   * it could hold) cannot beat the m-th best. Lists go in order of that bound for inner products;
   * for an index of directions, in order of the query's cosine to the centroid, which finds near
   * neighbours sooner where the bounds are loose (wide cones). Scores are dot + bias, or
   * dot / ‖item‖ for an index of directions (similar items).
   */
  search(rows: ItemRows, query: number, exclude: Int32Array, m: number, probes: number): Ranked {
    const core = this.core;
    const cosine = this.unit;
    const mark = core.mark();
    try {
      const c = this.c;
      const bounds = core.allocF32(c);
      const order = cosine ? core.allocF32(c) : bounds;
      this.bound(query, rows.bias !== 0, cosine, bounds, order);
      const nProbe = Math.min(probes, c);
      const probed = core.allocI32(nProbe);
      const probedBounds = core.allocF32(nProbe);
      const count = selectTop(core, order, c, 0, 0, 0, nProbe, probed, probedBounds);
      if (cosine) {
        const all = core.f32(bounds, c);
        const lists = core.i32(probed, count);
        core.f32(probedBounds, count).set(Array.from(lists, (j) => all[j]));
      }
      const excludePtr = core.putI32(exclude);
      const outIdx = core.allocI32(m);
      const outScores = core.allocF32(m);
      const unlisted = { extras: this.extrasPtr, extrasLength: this.extras.length, tailFrom: Math.min(this.indexed, rows.size), tailTo: rows.size };
      const found = ivfScan(core, rows, query, cosine, this.lists, probed, probedBounds, count, unlisted, excludePtr, exclude.length, m, outIdx, outScores);
      return { items: core.i32(outIdx, found).slice(), scores: core.f32(outScores, found).slice() };
    } finally {
      core.release(mark);
    }
  }

  /**
   * out[j] = the highest score any item in list j could have (Cauchy–Schwarz over the ball of the
   * list's radius around its centroid): q·c + bias coordinate + ‖[q, 1]‖·r for inner products
   * (the 1 when scores carry item biases); for cosine, ‖q‖ · cos of the angle to the centroid less
   * the ball's angular radius; `order` (cosine only) gets the cosine to the centroid.
   */
  private bound(query: number, withBias: boolean, cosine: boolean, out: number, order: number): void {
    const { core, c, k } = this;
    scoreItems(core, this.centroids.centroids, cosine ? 0 : this.centroids.bias, c, k, query, out);
    const view = core.f32(out, c);
    const q = core.f32(query, k);
    let qq = 0;
    for (let f = 0; f < k; f++) qq += q[f] * q[f];
    const qNorm = Math.sqrt(qq);
    if (!cosine) {
      const extent = Math.sqrt(qq + (withBias ? 1 : 0));
      for (let j = 0; j < c; j++) view[j] += extent * this.radii[j];
      return;
    }
    const similarity = core.f32(order, c);
    for (let j = 0; j < c; j++) {
      const cNorm = this.centroidNorms[j];
      const r = this.radii[j];
      const cos = qNorm > 0 && cNorm > 0 ? Math.max(-1, Math.min(1, view[j] / (qNorm * cNorm))) : 0;
      similarity[j] = cos;
      view[j] = r >= cNorm || qNorm === 0 ? qNorm : qNorm * Math.cos(Math.max(0, Math.acos(cos) - Math.asin(r / cNorm)));
    }
  }

  /** Item `i`'s vector changed: an indexed item leaves its list for the extras (new items are the tail already). */
  changed(i: number): void {
    if (i >= this.indexed || this.positions[i] < 0) return;
    this.unlist(i);
    this.positions[i] = EXTRA;
    this.extras.push(i);
    this.syncExtras();
  }

  /** Leaves item `i` out of every search (retired from the catalog), or puts it back. */
  setRetired(i: number, retired: boolean): void {
    if (i >= this.indexed) return;
    const position = this.positions[i];
    if (retired && position !== RETIRED) {
      if (position === EXTRA) this.extras.splice(this.extras.indexOf(i), 1);
      else this.unlist(i);
      this.positions[i] = RETIRED;
      this.syncExtras();
    } else if (!retired && position === RETIRED) {
      // Its list's room may be taken by then; the extras always have room.
      this.positions[i] = EXTRA;
      this.extras.push(i);
      this.syncExtras();
    }
  }

  /** The index as plain arrays (copies), for a model file. */
  toArrays(): IndexArrays {
    const c = this.c;
    const core = this.core;
    const meta = new Float32Array(4 * c);
    meta.set(core.f32(this.centroids.bias, 3 * c));
    meta.set(this.radii, 3 * c);
    return {
      centroids: core.f32(this.centroids.centroids, c * this.k).slice(),
      meta,
      starts: this.startsView.slice(),
      counts: core.i32(this.lists.counts, c).slice(),
      order: core.i32(this.lists.order, this.indexed).slice(),
      positions: this.positions.slice(),
      extras: Int32Array.from(this.extras),
      augment: this.augment,
      unit: this.unit,
    };
  }

  /** Takes item `i` out of its list: the list's last item moves into its place. */
  private unlist(i: number): void {
    const position = this.positions[i];
    const list = upperBound(this.startsView, position) - 1;
    const counts = this.core.i32(this.lists.counts, this.c);
    const order = this.core.i32(this.lists.order, this.indexed);
    const last = this.startsView[list] + counts[list] - 1;
    const moved = order[last];
    order[position] = moved;
    if (this.listed) this.core.f32(this.listed, this.indexed * this.k).copyWithin(position * this.k, last * this.k, (last + 1) * this.k);
    this.positions[moved] = position;
    counts[list]--;
  }

  /** Mirrors the extras into core memory, growing its buffer by doubling. */
  private syncExtras(): void {
    if (this.extras.length > this.extrasCapacity) {
      this.extrasCapacity = Math.max(64, this.extras.length * 2);
      this.extrasPtr = this.core.allocI32(this.extrasCapacity);
    }
    if (this.extrasPtr) this.core.i32(this.extrasPtr, this.extras.length).set(this.extras);
  }
}

/** The first index whose value exceeds `value` in the ascending `values`. */
function upperBound(values: Int32Array, value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An index's arrays as a model file names them: `prefix` + the array's name. */
export function indexToFile(arrays: IndexArrays, prefix: string): Record<string, ModelArray> {
  const { augment: _, unit: __, ...rest } = arrays;
  return Object.fromEntries(Object.entries(rest).map(([name, array]) => [`${prefix}${name[0].toUpperCase()}${name.slice(1)}`, array]));
}

/** The index stored under `prefix` in a model file's arrays, or null when it has none. */
export function indexFromFile(arrays: Record<string, ModelArray>, prefix: string, flags: { augment: boolean; unit: boolean }): IndexArrays | null {
  const get = (name: string) => arrays[`${prefix}${name}`];
  if (!get('Centroids')) return null;
  return {
    ...flags,
    centroids: get('Centroids') as Float32Array,
    meta: get('Meta') as Float32Array,
    starts: get('Starts') as Int32Array,
    counts: get('Counts') as Int32Array,
    order: get('Order') as Int32Array,
    positions: get('Positions') as Int32Array,
    extras: get('Extras') as Int32Array,
  };
}
