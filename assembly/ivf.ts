// An inverted-file (IVF) index over item vectors for approximate top-N by inner product.
// Items are grouped into lists around centroids; a query ranks the lists (the host bounds each
// list's best score from its centroid and radius), and ivfScan scores exactly only the items of
// the lists that could still beat the best found so far.
//
// Inner product is not a distance, so lists are formed in the norm-augmented space of
// Bachrach et al. 2014: an item [x, b] gains a coordinate a = sqrt(M² − ‖x‖² − b²) (M the
// largest item norm), every augmented item then has norm M, and the nearest list by L2 is the
// one whose centroid c' maximises x'·c' − ‖c'‖²/2. Queries [q, 1, 0] get no augmentation, so
// the item order by L2 equals the order by inner product. With `augment` off, a = 0 and lists
// are plain k-means cells (the raw inner-product variant, kept for the comparison).
import { heapOffer, heapSortBestFirst } from './heap';
import { dot, f32At, i32At, setI32 } from './vec';

/** Copies row order[t] of `items` to row t of `out` for t in [from, to): vectors in list order. */
export function ivfGather(items: usize, k: i32, order: usize, from: i32, to: i32, out: usize): void {
  const bytes = <usize>k << 2;
  for (let t = from; t < to; t++) memory.copy(out + <usize>t * bytes, items + <usize>i32At(order, t) * bytes, bytes);
}

/**
 * outLabels[i] = the list of item i: argmax over the c centroids of
 * s·x·cx_j + b·cb_j + a·ca_j − half_j, with a as above (0 unless augment), ties → lower index,
 * where s = 1/‖x‖ when `unit` (lists of directions, for cosine similarity; b and a are 0 then),
 * else 1. Items are rows of k floats at `items`; `bias` (0 = none) one float per item; `m2` = M².
 * Rows are independent: a thread may take a range by offsetting items, bias and outLabels.
 */
export function ivfAssign(
  items: usize, bias: usize, n: i32, k: i32,
  centroids: usize, cBias: usize, cAug: usize, half: usize, c: i32,
  m2: f32, augment: i32, unit: i32, outLabels: usize,
): void {
  const stride = <usize>k << 2;
  let x = items;
  for (let i = 0; i < n; i++) {
    const b: f32 = bias != 0 && unit == 0 ? f32At(bias, i) : 0;
    const xx = dot(x, x, k);
    const a: f32 = augment != 0 && unit == 0 ? Mathf.sqrt(Mathf.max(0, m2 - xx - b * b)) : 0;
    const scale: f32 = unit != 0 && xx > 0 ? 1 / Mathf.sqrt(xx) : 1;
    let best = -Infinity;
    let label = 0;
    let cj = centroids;
    for (let j = 0; j < c; j++) {
      const s = scale * dot(x, cj, k) + b * f32At(cBias, j) + a * f32At(cAug, j) - f32At(half, j);
      if (s > best) {
        best = s;
        label = j;
      }
      cj += stride;
    }
    setI32(outLabels, i, label);
    x += stride;
  }
}

/** Whether `item` is in the ascending list `exclude` (binary search). */
@inline
function excluded(exclude: usize, len: i32, item: i32): bool {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = i32At(exclude, mid);
    if (v == item) return true;
    if (v < item) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** Offers item i's exact score (dot + bias, or cosine when `cosine`) to the heap; its vector is at `row`. */
@inline
function offer(
  row: usize, bias: usize, k: i32, query: usize, cosine: i32, i: i32,
  outIdx: usize, outScores: usize, size: i32, m: i32,
): i32 {
  let s = dot(row, query, k);
  if (bias != 0) s += f32At(bias, i);
  if (cosine != 0) {
    const norm = Mathf.sqrt(dot(row, row, k));
    s = norm > 0 ? s / norm : 0;
  }
  if (s != s) return size; // NaN never ranks
  return heapOffer(outIdx, outScores, size, m, i, s);
}

@inline
function rowOf(items: usize, k: i32, i: i32): usize {
  return items + ((<usize>i * <usize>k) << 2);
}

/**
 * The best m items among the `nExtras` items at `extras`, the items [tailFrom, tailTo) and
 * those in the `nLists` lists named at `lists` (list j holds counts[j] item indices from
 * order[starts[j]]), skipping the ascending `exclude` list. Scores are exact. When `listed` is
 * not 0 it holds the listed items' vectors in list order (row t for order[t]), so a list is
 * scanned as one contiguous block instead of rows gathered from all over the matrix. `bounds[l]` is
 * an upper bound on any score in the l-th named list: once the heap is full, a list whose bound
 * is below its worst score cannot contribute and is skipped.
 * Written best first to outIdx/outScores; returns how many.
 */
export function ivfScan(
  items: usize, bias: usize, k: i32, query: usize, cosine: i32,
  starts: usize, counts: usize, order: usize, listed: usize, lists: usize, bounds: usize, nLists: i32,
  extras: usize, nExtras: i32, tailFrom: i32, tailTo: i32,
  exclude: usize, excludeLen: i32, m: i32, outIdx: usize, outScores: usize,
): i32 {
  let size = 0;
  // The unlisted items first: their scores raise the bar that lets the list scan stop early.
  for (let t = 0; t < nExtras; t++) {
    const i = i32At(extras, t);
    if (excludeLen > 0 && excluded(exclude, excludeLen, i)) continue;
    size = offer(rowOf(items, k, i), bias, k, query, cosine, i, outIdx, outScores, size, m);
  }
  for (let i = tailFrom; i < tailTo; i++) {
    if (excludeLen > 0 && excluded(exclude, excludeLen, i)) continue;
    size = offer(rowOf(items, k, i), bias, k, query, cosine, i, outIdx, outScores, size, m);
  }
  for (let l = 0; l < nLists; l++) {
    // The heap's root is its worst entry.
    if (size == m && f32At(bounds, l) < f32At(outScores, 0)) continue;
    const list = i32At(lists, l);
    const from = i32At(starts, list);
    const to = from + i32At(counts, list);
    for (let t = from; t < to; t++) {
      const i = i32At(order, t);
      if (excludeLen > 0 && excluded(exclude, excludeLen, i)) continue;
      const row = listed != 0 ? rowOf(listed, k, t) : rowOf(items, k, i);
      size = offer(row, bias, k, query, cosine, i, outIdx, outScores, size, m);
    }
  }
  heapSortBestFirst(outIdx, outScores, size);
  return size;
}
