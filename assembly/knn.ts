// Item–item cosine neighbours over a sparse user–item matrix, and the scoring that uses them
// (implicit's ItemItemRecommender). The matrix comes twice as CSR — item→users and user→items,
// same values — so an item's co-rated items are found by walking its users' rows: the cost is
// Σ over i's users of their row lengths, never O(nItems²).
import { heapOffer, heapSortBestFirst } from './heap';
import { dot, f32At, i32At, setF32, setI32 } from './vec';

/**
 * outNorms[i] = ‖item i's column‖₂. Computed once per model rather than inside
 * cosineNeighbors, where every co-rated j would need its norm again for every i.
 */
export function itemNorms(itemIndptr: usize, itemValues: usize, nItems: i32, outNorms: usize): void {
  for (let i = 0; i < nItems; i++) {
    const a = i32At(itemIndptr, i);
    const row = itemValues + (<usize>a << 2);
    setF32(outNorms, i, Mathf.sqrt(dot(row, row, i32At(itemIndptr, i + 1) - a)));
  }
}

/**
 * For each item i in [itemStart, itemEnd): its K most similar items, best first (ties → lower
 * index), into outNeighbors[i·K..] (i32, −1 padded) and outSims[i·K..] (f32, 0 padded). Rows
 * outside the range are not written, so worker threads can fill disjoint ranges of one matrix.
 *
 *   sim(i, j) = (i·j) / (‖i‖‖j‖) · co / (co + shrink),   co = number of users who rated both
 *
 * Candidates are the items sharing at least one user with i (j ≠ i), whatever the sign of sim;
 * an item whose norm is 0 gets sim 0 rather than NaN.
 *
 * Scratch (per thread): `accum` is 2·nItems f32 — an interleaved (dot, co) pair per item; co is
 * counted in f32, exact up to 2^24 co-raters — and `touched` is nItems i32, the list of js
 * accumulated for the current i, so only those pairs are cleared afterwards. accum is zeroed once
 * per call, so the host may pass dirty memory.
 */
export function cosineNeighbors(
  itemIndptr: usize,
  itemUsers: usize,
  itemValues: usize,
  norms: usize,
  userIndptr: usize,
  userItems: usize,
  userValues: usize,
  nItems: i32,
  K: i32,
  shrink: f32,
  itemStart: i32,
  itemEnd: i32,
  outNeighbors: usize,
  outSims: usize,
  accum: usize,
  touched: usize,
): void {
  memory.fill(accum, 0, <usize>nItems << 3);
  for (let i = itemStart; i < itemEnd; i++) {
    neighborsOf(i, itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues, K, shrink, outNeighbors, outSims, accum, touched);
  }
}

/**
 * cosineNeighbors for the `count` items listed at `items` (i32, any order, no repeats) instead
 * of a range: the rows an erasure changed are recomputed in place, each exactly as the full call
 * would compute it. Same scratch, zeroed once per call.
 */
export function cosineNeighborsOf(
  itemIndptr: usize,
  itemUsers: usize,
  itemValues: usize,
  norms: usize,
  userIndptr: usize,
  userItems: usize,
  userValues: usize,
  nItems: i32,
  K: i32,
  shrink: f32,
  items: usize,
  count: i32,
  outNeighbors: usize,
  outSims: usize,
  accum: usize,
  touched: usize,
): void {
  memory.fill(accum, 0, <usize>nItems << 3);
  for (let t = 0; t < count; t++) {
    neighborsOf(i32At(items, t), itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues, K, shrink, outNeighbors, outSims, accum, touched);
  }
}

/** One item's row of cosineNeighbors; leaves `accum` all zero again for the next item. */
@inline
function neighborsOf(
  i: i32,
  itemIndptr: usize,
  itemUsers: usize,
  itemValues: usize,
  norms: usize,
  userIndptr: usize,
  userItems: usize,
  userValues: usize,
  K: i32,
  shrink: f32,
  outNeighbors: usize,
  outSims: usize,
  accum: usize,
  touched: usize,
): void {
  let nTouched = 0;
  const pEnd = i32At(itemIndptr, i + 1);
  for (let p = i32At(itemIndptr, i); p < pEnd; p++) {
    const u = i32At(itemUsers, p);
    const r = f32At(itemValues, p);
    const qEnd = i32At(userIndptr, u + 1);
    for (let q = i32At(userIndptr, u); q < qEnd; q++) {
      const j = i32At(userItems, q);
      if (j == i) continue;
      const slot = accum + (<usize>j << 3);
      const co = load<f32>(slot, 4);
      // co == 0 marks the first visit: the dot itself may legitimately sum to 0.
      if (co == 0) setI32(touched, nTouched++, j);
      store<f32>(slot, load<f32>(slot) + r * f32At(userValues, q));
      store<f32>(slot, co + 1, 4);
    }
  }

  const rowIdx = outNeighbors + ((<usize>i * <usize>K) << 2);
  const rowSim = outSims + ((<usize>i * <usize>K) << 2);
  const ni = f32At(norms, i);
  let size = 0;
  for (let t = 0; t < nTouched; t++) {
    const j = i32At(touched, t);
    const slot = accum + (<usize>j << 3);
    const d = load<f32>(slot);
    const co = load<f32>(slot, 4);
    store<u64>(slot, 0); // clears both halves of the pair for the next i
    const denom = ni * f32At(norms, j);
    let sim: f32 = denom > 0 ? d / denom : 0;
    if (shrink != 0) sim *= co / (co + shrink);
    if (sim != sim) continue; // NaN (only from NaN input) never ranks, as in selectTop
    size = heapOffer(rowIdx, rowSim, size, K, j, sim);
  }
  heapSortBestFirst(rowIdx, rowSim, size);
  for (let n = size; n < K; n++) {
    setI32(rowIdx, n, -1);
    setF32(rowSim, n, 0);
  }
}

/**
 * outScores[j] = Σ over the user's items i (weight w = userValues) of w · sim(i → j) for every
 * stored neighbour j of i — the user row times the (sparse, K-per-row) similarity matrix, as in
 * implicit's ItemItemRecommender. Seen items are not removed here; selectTop's exclude does that.
 */
export function knnScores(
  neighbors: usize,
  sims: usize,
  K: i32,
  nItems: i32,
  userItems: usize,
  userValues: usize,
  len: i32,
  outScores: usize,
): void {
  memory.fill(outScores, 0, <usize>nItems << 2);
  for (let t = 0; t < len; t++) {
    const i = i32At(userItems, t);
    const w = f32At(userValues, t);
    const base = <usize>i * <usize>K;
    const rowIdx = neighbors + (base << 2);
    const rowSim = sims + (base << 2);
    for (let n = 0; n < K; n++) {
      const j = i32At(rowIdx, n);
      if (j < 0) break; // −1 padding only ever follows the real neighbours
      setF32(outScores, j, f32At(outScores, j) + w * f32At(rowSim, n));
    }
  }
}
