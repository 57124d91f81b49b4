// A bounded min-heap of (index, score) pairs in two parallel host buffers, shared by every
// top-N selection (catalog ranking, neighbour lists). The root is the worst kept entry, so each
// candidate costs O(log cap) and nothing is allocated. Ties go to the lower index, so results
// are deterministic and match a stable full sort.
import { f32At, i32At, setF32, setI32 } from './vec';

/** Offers (item, score) to a heap holding `size` of at most `cap` entries; returns the new size. */
@inline
export function heapOffer(idx: usize, sc: usize, size: i32, cap: i32, item: i32, score: f32): i32 {
  if (size < cap) {
    siftUp(idx, sc, size, item, score);
    return size + 1;
  }
  if (size > 0 && better(score, item, f32At(sc, 0), i32At(idx, 0))) siftDown(idx, sc, size, item, score);
  return size;
}

/** Heap-sorts in place: repeatedly moves the worst to the end, leaving the best first. */
@inline
export function heapSortBestFirst(idx: usize, sc: usize, size: i32): void {
  for (let last = size - 1; last > 0; last--) {
    const worstIdx = i32At(idx, 0);
    const worstScore = f32At(sc, 0);
    siftDown(idx, sc, last, i32At(idx, last), f32At(sc, last));
    setI32(idx, last, worstIdx);
    setF32(sc, last, worstScore);
  }
}

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
