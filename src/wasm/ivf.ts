import type { Core } from './core.ts';
import type { Call } from './pool.ts';

interface IvfExports {
  ivfAssign(
    items: number, bias: number, n: number, k: number,
    centroids: number, cBias: number, cAug: number, half: number, c: number,
    m2: number, augment: number, unit: number, outLabels: number,
  ): void;
  ivfScan(
    items: number, bias: number, k: number, query: number, cosine: number,
    starts: number, counts: number, order: number, listed: number, lists: number, bounds: number, nLists: number,
    extras: number, nExtras: number, tailFrom: number, tailTo: number,
    exclude: number, excludeLen: number, m: number, outIdx: number, outScores: number,
  ): number;
  ivfGather(items: number, k: number, order: number, from: number, to: number, out: number): void;
}

const api = (core: Core) => core.exports as unknown as IvfExports;

/** Where an index's centroids live: c rows of k floats plus three floats per centroid. */
export interface Centroids {
  centroids: number;
  /** The centroid's item-bias coordinate (0s for models without biases). */
  bias: number;
  /** The centroid's augmentation coordinate. */
  aug: number;
  /** ‖c'‖²/2 over all coordinates (0s for the raw inner-product variant). */
  half: number;
  count: number;
}

/**
 * outLabels[i] (i32) = the list of item i (rows of k f32 at `items`, biases at `bias` or 0):
 * the centroid nearest to the item in the norm-augmented space when `augment`, the nearest
 * k-means cell otherwise, or the nearest to the item's direction when `unit`. `m2` is the
 * squared largest item norm. Rows are independent.
 */
export function ivfAssign(
  core: Core, items: number, bias: number, n: number, k: number, c: Centroids, m2: number, augment: boolean, unit: boolean, outLabels: number,
): void {
  api(core).ivfAssign(items, bias, n, k, c.centroids, c.bias, c.aug, c.half, c.count, m2, augment ? 1 : 0, unit ? 1 : 0, outLabels);
}

/** ivfAssign for rows [from, to) as a pool call (see runOverRows). */
export function ivfAssignRows(
  from: number, to: number, items: number, bias: number, k: number, c: Centroids, m2: number, augment: boolean, unit: boolean, outLabels: number,
): Call {
  const args = [items + from * k * 4, bias ? bias + from * 4 : 0, to - from, k, c.centroids, c.bias, c.aug, c.half, c.count, m2, augment ? 1 : 0, unit ? 1 : 0, outLabels + from * 4];
  return { fn: 'ivfAssign', args };
}

/**
 * An index's lists in core memory: list j holds counts[j] item indices from order[starts[j]];
 * `listed` (0 = none) their vectors in the same order, row t for order[t].
 */
export interface Lists {
  starts: number;
  counts: number;
  order: number;
  listed: number;
}

/** Row t of `out` = row order[t] of `items` (k f32 each), for t in [from, to). */
export function ivfGather(core: Core, items: number, k: number, order: number, from: number, to: number, out: number): void {
  api(core).ivfGather(items, k, order, from, to, out);
}

/** Items scanned besides the probed lists: `extras` (i32 indices) and the range [tailFrom, tailTo). */
export interface Unlisted {
  extras: number;
  extrasLength: number;
  tailFrom: number;
  tailTo: number;
}

/**
 * The best m items, best first, among the unlisted items and the `nProbed` lists at `probed`,
 * minus the ascending `exclude` list; exact scores (dot + bias, or dot / ‖item‖ when `cosine`).
 * `bounds` (f32, descending) bounds each probed list's scores: the scan stops at the first list
 * that cannot beat the m-th best so far. Returns how many were written to outIdx (i32) / outScores (f32).
 */
export function ivfScan(
  core: Core, items: { factors: number; bias: number; k: number }, query: number, cosine: boolean,
  lists: Lists, probed: number, bounds: number, nProbed: number, unlisted: Unlisted,
  exclude: number, excludeLength: number, m: number, outIdx: number, outScores: number,
): number {
  return api(core).ivfScan(
    items.factors, items.bias, items.k, query, cosine ? 1 : 0,
    lists.starts, lists.counts, lists.order, lists.listed, probed, bounds, nProbed,
    unlisted.extras, unlisted.extrasLength, unlisted.tailFrom, unlisted.tailTo,
    exclude, excludeLength, m, outIdx, outScores,
  );
}
