import type { Core } from './core.ts';

interface KnnExports {
  itemNorms(itemIndptr: number, itemValues: number, nItems: number, outNorms: number): void;
  cosineNeighbors(
    itemIndptr: number, itemUsers: number, itemValues: number, norms: number,
    userIndptr: number, userItems: number, userValues: number,
    nItems: number, K: number, shrink: number, itemStart: number, itemEnd: number,
    outNeighbors: number, outSims: number, accum: number, touched: number,
  ): void;
  cosineNeighborsOf(
    itemIndptr: number, itemUsers: number, itemValues: number, norms: number,
    userIndptr: number, userItems: number, userValues: number,
    nItems: number, K: number, shrink: number, items: number, count: number,
    outNeighbors: number, outSims: number, accum: number, touched: number,
  ): void;
  knnScores(
    neighbors: number, sims: number, K: number, nItems: number,
    userItems: number, userValues: number, len: number, outScores: number,
  ): void;
}

const api = (core: Core) => core.exports as unknown as KnnExports;

/** f32 elements of cosineNeighbors' `accum` scratch: a (dot, co-rater count) pair per item. */
export const accumLength = (nItems: number): number => 2 * nItems;
/** i32 elements of cosineNeighbors' `touched` scratch. */
export const touchedLength = (nItems: number): number => nItems;

/** outNorms[i] (nItems f32) = L2 norm of item i's values in the item→users CSR. */
export function itemNorms(core: Core, itemIndptr: number, itemValues: number, nItems: number, outNorms: number): void {
  api(core).itemNorms(itemIndptr, itemValues, nItems, outNorms);
}

/**
 * Top-K cosine neighbours (shrunk by co/(co+shrink); shrink 0 = plain cosine) of each item in
 * [itemStart, itemEnd), best first, ties → lower index, into rows i·K of outNeighbors (i32, −1
 * padded) and outSims (f32, 0 padded); other rows untouched. `norms` comes from itemNorms.
 * Scratch: accum = accumLength(nItems) f32, touched = touchedLength(nItems) i32, one pair per thread.
 */
export function cosineNeighbors(
  core: Core, itemIndptr: number, itemUsers: number, itemValues: number, norms: number,
  userIndptr: number, userItems: number, userValues: number,
  nItems: number, K: number, shrink: number, itemStart: number, itemEnd: number,
  outNeighbors: number, outSims: number, accum: number, touched: number,
): void {
  api(core).cosineNeighbors(
    itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues,
    nItems, K, shrink, itemStart, itemEnd, outNeighbors, outSims, accum, touched,
  );
}

/**
 * cosineNeighbors for the `count` item indices at `items` (i32, no repeats) rather than a range:
 * each listed row is written exactly as the range call would write it, the others untouched.
 */
export function cosineNeighborsOf(
  core: Core, itemIndptr: number, itemUsers: number, itemValues: number, norms: number,
  userIndptr: number, userItems: number, userValues: number,
  nItems: number, K: number, shrink: number, items: number, count: number,
  outNeighbors: number, outSims: number, accum: number, touched: number,
): void {
  api(core).cosineNeighborsOf(
    itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues,
    nItems, K, shrink, items, count, outNeighbors, outSims, accum, touched,
  );
}

/**
 * outScores (nItems f32, zeroed first) = Σ over the user's len items i (weights userValues) of
 * weight · sims[i·K + n] added to item neighbors[i·K + n].
 */
export function knnScores(
  core: Core, neighbors: number, sims: number, K: number, nItems: number,
  userItems: number, userValues: number, len: number, outScores: number,
): void {
  api(core).knnScores(neighbors, sims, K, nItems, userItems, userValues, len, outScores);
}
