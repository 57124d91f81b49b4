// Scoring and top-N selection over a whole catalog.
import { heapOffer, heapSortBestFirst } from './heap';
import { dot, f32At, i32At, setF32 } from './vec';

/** scores[i] = factors[i]·user (+ bias[i] when bias ≠ 0) for every item i. */
export function scoreItems(factors: usize, bias: usize, nItems: i32, k: i32, user: usize, scores: usize): void {
  const stride = <usize>k << 2;
  let row = factors;
  for (let i = 0; i < nItems; i++) {
    let s = dot(row, user, k);
    if (bias != 0) s += f32At(bias, i);
    setF32(scores, i, s);
    row += stride;
  }
}

/**
 * Writes the n best items to outIdx/outScores, best first, and returns how many were written.
 * `exclude` is an ascending list of item indices never returned (the user's seen items);
 * `mask`, when non-zero, holds one byte per item and only items with a non-zero byte compete.
 * A bounded min-heap of size n keeps this O(nItems · log n) with no allocation.
 */
export function selectTop(
  scores: usize,
  nItems: i32,
  exclude: usize,
  excludeLen: i32,
  mask: usize,
  n: i32,
  outIdx: usize,
  outScores: usize,
): i32 {
  let size = 0;
  let e = 0;
  for (let i = 0; i < nItems; i++) {
    while (e < excludeLen && i32At(exclude, e) < i) e++;
    if (e < excludeLen && i32At(exclude, e) == i) continue;
    if (mask != 0 && load<u8>(mask + <usize>i) == 0) continue;
    const s = f32At(scores, i);
    if (s != s) continue; // NaN never ranks
    size = heapOffer(outIdx, outScores, size, n, i, s);
  }
  heapSortBestFirst(outIdx, outScores, size);
  return size;
}
