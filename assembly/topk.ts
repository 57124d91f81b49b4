// Scoring and top-N selection over a whole catalog.
import { dot, f32At, i32At, setF32, setI32 } from './vec';

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
    if (size < n) {
      siftUp(outIdx, outScores, size, i, s);
      size++;
    } else if (better(s, i, f32At(outScores, 0), i32At(outIdx, 0))) {
      siftDown(outIdx, outScores, size, i, s);
    }
  }
  // Heap-sort in place: repeatedly move the worst to the end, leaving best first.
  for (let end = size - 1; end > 0; end--) {
    const worstIdx = i32At(outIdx, 0);
    const worstScore = f32At(outScores, 0);
    siftDown(outIdx, outScores, end, i32At(outIdx, end), f32At(outScores, end));
    setI32(outIdx, end, worstIdx);
    setF32(outScores, end, worstScore);
  }
  return size;
}

// Ties go to the lower index so results are deterministic and match a stable full sort.
@inline
function better(s: f32, i: i32, t: f32, j: i32): bool {
  return s > t || (s == t && i < j);
}

@inline
function siftUp(idx: usize, sc: usize, pos: i32, item: i32, score: f32): void {
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    const ps = f32At(sc, parent);
    const pi = i32At(idx, parent);
    if (!better(ps, pi, score, item)) break;
    setF32(sc, pos, ps);
    setI32(idx, pos, pi);
    pos = parent;
  }
  setF32(sc, pos, score);
  setI32(idx, pos, item);
}

/** Replaces the heap root (the worst kept) with item and restores the min-heap of `size`. */
@inline
function siftDown(idx: usize, sc: usize, size: i32, item: i32, score: f32): void {
  let pos = 0;
  while (true) {
    const left = 2 * pos + 1;
    if (left >= size) break;
    let child = left;
    const right = left + 1;
    if (right < size && better(f32At(sc, left), i32At(idx, left), f32At(sc, right), i32At(idx, right))) child = right;
    const cs = f32At(sc, child);
    const ci = i32At(idx, child);
    if (!better(score, item, cs, ci)) break;
    setF32(sc, pos, cs);
    setI32(idx, pos, ci);
    pos = child;
  }
  setF32(sc, pos, score);
  setI32(idx, pos, item);
}
