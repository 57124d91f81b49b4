import { z } from 'zod';
import { IdMap } from '../data/id-map.ts';
import { transpose, withoutRow, type Csr } from '../data/csr.ts';
import type { Interactions } from '../data/interactions.ts';
import { accumLength, cosineNeighborsOf, itemNorms, knnScores, touchedLength } from '../wasm/knn.ts';
import { runInline, runThreaded, shareRows, splitRows, type Call, type Schedule } from '../wasm/pool.ts';
import { DEFAULT_N, checkN, selectRanked, tombstone } from './factor-model.ts';
import { HistoryModel, explanationOf } from './history-model.ts';
import { encodeModel, type ModelState } from './format.ts';
import { History, similarUsersByRows, toRow, type Row } from './history.ts';
import { nonNegative, parseParams, seed, threads } from './params.ts';
import { stepCounter } from './progress.ts';
import type { Explanation, FitOptions, ModelOptions, Recommender, RecommendOptions, Scored, ScoredUser, UserInteraction } from './types.ts';

const schema = z
  .object({
    /** Neighbours kept per item. */
    neighbors: z.number().int().min(1).max(1000).default(50),
    /** Similarity is shrunk by co/(co + shrink) so pairs seen together rarely count less. */
    shrink: nonNegative(0),
    seed: seed(),
    threads: threads(),
  })
  .strict();
export type ItemKnnParams = z.output<typeof schema>;

/** On one thread the items are done in this many chunks of about equal work, one step (and progress report) each. */
const SINGLE_THREAD_STEPS = 16;

/**
 * Item-based nearest neighbours with cosine similarity: an item scores by the summed
 * similarity to the items the user interacted with, weighted by those interactions.
 *
 * Items' neighbour lists are independent, so the items are dealt to `threads` threads in chunks
 * of about equal work (see shareRows); `fitAsync` computes them in parallel, bit-identical to `fit`.
 */
export class ItemKnn extends HistoryModel implements Recommender {
  readonly algorithm = 'item-knn' as const;
  readonly params: Readonly<ItemKnnParams>;
  /**
   * Item → users matrix the similarities were computed from (training data minus erased users),
   * kept for user–user similarity and for recomputing rows after an erasure.
   */
  private byItem: Csr | null = null;
  private neighbors = 0;
  private sims = 0;
  /** Items the neighbour/similarity buffers have room for (a refit reuses them). */
  private capacity = 0;

  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    super(options);
    this.params = parseParams(schema, params);
  }

  /** Progress counts chunks of items: 16 on one thread (fewer for tiny catalogs), 1 with threads > 1. */
  fit(data: Interactions, options: FitOptions = {}): this {
    this.assertLive();
    runInline(this.core, this.schedule(data), stepCounter(this.stepCount(data.items.size), options.onProgress));
    this.fitted = true;
    return this;
  }

  /**
   * Computes the neighbour lists with `threads` threads (the calling thread and threads − 1
   * workers). With threads 1 this is `fit`. Do not use the model until the promise settles.
   */
  async fitAsync(data: Interactions, options: FitOptions = {}): Promise<this> {
    if (this.params.threads <= 1) return this.fit(data, options);
    this.assertLive();
    this.fitted = false;
    await runThreaded(this.core, this.params.threads, () => this.schedule(data), stepCounter(this.stepCount(data.items.size), options.onProgress));
    this.fitted = true;
    return this;
  }

  private stepCount(nItems: number): number {
    return this.params.threads > 1 ? 1 : Math.max(1, Math.min(SINGLE_THREAD_STEPS, nItems));
  }

  /**
   * Lays out the data, then the neighbour lists: with threads > 1 one step, a share of the items
   * per thread, each with its own scratch; on one thread, stepCount steps of one chunk each.
   */
  private *schedule(data: Interactions): Schedule {
    const K = this.params.neighbors;
    const T = this.params.threads;
    const nItems = data.items.size;
    this.users = IdMap.from(data.users.toArray());
    this.items = IdMap.from(data.items.toArray());
    const byUser = data.byUser();
    this.byItem = data.byItem();
    this.history = new History(byUser);
    this.reserveLists(nItems);
    const mark = this.core.mark();
    let top = -1;
    try {
      const it = { indptr: this.core.putI32(this.byItem.indptr), indices: this.core.putI32(this.byItem.indices), values: this.core.putF32(this.byItem.values) };
      const us = { indptr: this.core.putI32(byUser.indptr), indices: this.core.putI32(byUser.indices), values: this.core.putF32(byUser.values) };
      const norms = this.core.allocF32(nItems);
      itemNorms(this.core, it.indptr, it.values, nItems, norms);
      const scratch = Array.from({ length: T }, () => ({
        accum: this.core.allocF32(accumLength(nItems)),
        touched: this.core.allocI32(touchedLength(nItems)),
      }));
      top = this.core.mark();
      const neighbors = (t: number, [start, end]: [number, number]): Call => ({
        fn: 'cosineNeighbors',
        args: [
          it.indptr, it.indices, it.values, norms, us.indptr, us.indices, us.values,
          nItems, K, this.params.shrink, start, end, this.neighbors, this.sims, scratch[t].accum, scratch[t].touched,
        ],
      });
      const work = workPrefix(this.byItem, byUser, nItems);
      if (T > 1) {
        yield shareRows(work, T).map((own, t) => own.map((range) => neighbors(t, range)));
      } else {
        const bounds = splitRows(work, this.stepCount(nItems));
        for (let c = 0; c + 1 < bounds.length; c++) yield [bounds[c + 1] > bounds[c] ? [neighbors(0, [bounds[c], bounds[c + 1]])] : []];
      }
    } finally {
      // Leak rather than free memory someone allocated after ours (a model used mid-fitAsync).
      if (top < 0 || this.core.mark() === top) this.core.release(mark);
    }
  }

  recommend(userId: string, options: RecommendOptions = {}): Scored[] {
    return this.rank(this.history.row(this.userIndex(userId)), options);
  }

  recommendFor(history: UserInteraction[], options: RecommendOptions = {}): Scored[] {
    this.assertReady();
    return this.rank(this.rowOf(history), options);
  }

  predict(userId: string, itemId: string): number {
    const i = this.itemIndex(itemId);
    return this.contributions(this.history.row(this.userIndex(userId)), i).reduce((s, c) => s + c.weight, 0);
  }

  similarItems(itemId: string, n = DEFAULT_N): Scored[] {
    const i = this.itemIndex(itemId);
    checkN(n);
    const K = this.params.neighbors;
    const nb = this.core.i32(this.neighbors + i * K * 4, K);
    const sims = this.core.f32(this.sims + i * K * 4, K);
    const out: Scored[] = [];
    for (let t = 0; t < K && out.length < n && nb[t] >= 0; t++) out.push({ itemId: this.items.id(nb[t]), score: sims[t] });
    return out;
  }

  /** Cosine similarity of users' interaction rows. */
  similarUsers(userId: string, n = DEFAULT_N): ScoredUser[] {
    const u = this.userIndex(userId);
    checkN(n);
    return similarUsersByRows(u, n, this.history, this.byItem!, (v) => this.users.id(v));
  }

  /** Item-kNN keeps no user vector: folding in means remembering the history it scores from. */
  foldInUser(userId: string, history: UserInteraction[]): Float32Array {
    this.assertReady();
    const row = this.rowOf(history);
    this.history.set(this.users.add(userId), row);
    return new Float32Array(0);
  }

  /**
   * Erases a user: their row leaves the item → users matrix, and the neighbour lists their row
   * could have changed are recomputed in place — every item that shares a user with one of
   * theirs (a norm or a co-rating changed) — so each list equals a fit on the training data
   * without them. Other lists cannot change. Scratch is freed afterwards: no memory is kept.
   */
  forgetUser(userId: string): void {
    const u = this.userIndex(userId);
    this.history.set(u, toRow([], 'sum'));
    this.users.rename(u, tombstone(u));
    const before = this.byItem!;
    const nItems = this.items.size;
    const byUser = transpose(before, this.users.size);
    const theirs = byUser.indices.subarray(byUser.indptr[u], byUser.indptr[u + 1]);
    if (theirs.length === 0) return; // folded in after training: in no similarity
    const affected = new Uint8Array(nItems);
    for (const j of theirs) {
      affected[j] = 1;
      for (let p = before.indptr[j]; p < before.indptr[j + 1]; p++) {
        const v = before.indices[p];
        for (let q = byUser.indptr[v]; q < byUser.indptr[v + 1]; q++) affected[byUser.indices[q]] = 1;
      }
    }
    const after = withoutUser(before, u);
    this.byItem = after;
    const rows = Int32Array.from(affected.keys()).filter((i) => affected[i] === 1);
    this.recompute(after, withoutRow(byUser, u), rows);
  }

  /** Recomputes the neighbour lists of `rows` from the given matrix, in place. */
  private recompute(byItem: Csr, byUser: Csr, rows: Int32Array): void {
    const nItems = this.items.size;
    const mark = this.core.mark();
    try {
      const it = { indptr: this.core.putI32(byItem.indptr), indices: this.core.putI32(byItem.indices), values: this.core.putF32(byItem.values) };
      const us = { indptr: this.core.putI32(byUser.indptr), indices: this.core.putI32(byUser.indices), values: this.core.putF32(byUser.values) };
      const norms = this.core.allocF32(nItems);
      itemNorms(this.core, it.indptr, it.values, nItems, norms);
      cosineNeighborsOf(
        this.core, it.indptr, it.indices, it.values, norms, us.indptr, us.indices, us.values,
        nItems, this.params.neighbors, this.params.shrink, this.core.putI32(rows), rows.length,
        this.neighbors, this.sims, this.core.allocF32(accumLength(nItems)), this.core.allocI32(touchedLength(nItems)),
      );
    } finally {
      this.core.release(mark);
    }
  }

  /** Neighbour and similarity buffers for `nItems` items, reused when they are big enough. */
  private reserveLists(nItems: number): void {
    if (nItems <= this.capacity) return;
    const K = this.params.neighbors;
    this.neighbors = this.core.allocI32(nItems * K);
    this.sims = this.core.allocF32(nItems * K);
    this.capacity = nItems;
  }

  explain(userId: string, itemId: string, n = DEFAULT_N): Explanation {
    const i = this.itemIndex(itemId);
    return explanationOf(this.contributions(this.history.row(this.userIndex(userId)), i), n);
  }

  save(): Uint8Array {
    this.assertReady();
    const K = this.params.neighbors;
    const seen = this.history.toCsr(this.users.size);
    const byItem = this.byItem!;
    return encodeModel({
      algorithm: this.algorithm,
      params: { ...this.params },
      users: this.users.toArray(),
      items: this.items.toArray(),
      scalars: {},
      arrays: {
        neighbors: this.core.i32(this.neighbors, this.items.size * K).slice(),
        sims: this.core.f32(this.sims, this.items.size * K).slice(),
        seenIndptr: seen.indptr, seenIndices: seen.indices, seenValues: seen.values,
        itemIndptr: byItem.indptr, itemIndices: byItem.indices, itemValues: byItem.values,
      },
    });
  }

  restore(state: ModelState): this {
    this.assertLive();
    const a = state.arrays;
    this.users = IdMap.from(state.users);
    this.items = IdMap.from(state.items);
    this.reserveLists(state.items.length);
    this.core.i32(this.neighbors, a.neighbors.length).set(a.neighbors);
    this.core.f32(this.sims, a.sims.length).set(a.sims);
    // Copies: the decoded arrays may be views into the caller's bytes.
    this.history = new History({ rows: state.users.length, indptr: (a.seenIndptr as Int32Array).slice(), indices: (a.seenIndices as Int32Array).slice(), values: (a.seenValues as Float32Array).slice() });
    this.byItem = { rows: state.items.length, indptr: (a.itemIndptr as Int32Array).slice(), indices: (a.itemIndices as Int32Array).slice(), values: (a.itemValues as Float32Array).slice() };
    this.fitted = true;
    return this;
  }

  private contributions(row: Row, item: number): Array<{ itemId: string; weight: number }> {
    const K = this.params.neighbors;
    const out: Array<{ itemId: string; weight: number }> = [];
    for (let t = 0; t < row.indices.length; t++) {
      const j = row.indices[t];
      const nb = this.core.i32(this.neighbors + j * K * 4, K);
      const at = nb.indexOf(item);
      const weight = at >= 0 ? row.values[t] * this.core.f32(this.sims + j * K * 4, K)[at] : 0;
      out.push({ itemId: this.items.id(j), weight });
    }
    return out;
  }

  private rank(row: Row, options: RecommendOptions): Scored[] {
    const n = options.n ?? DEFAULT_N;
    checkN(n);
    const nItems = this.items.size;
    const mark = this.core.mark();
    try {
      const scores = this.core.allocF32(nItems);
      const items = this.core.putI32(row.indices);
      const values = this.core.putF32(row.values);
      knnScores(this.core, this.neighbors, this.sims, this.params.neighbors, nItems, items, values, row.indices.length, scores);
      return selectRanked(this.core, this.items, scores, nItems, row.indices, 0, n, options);
    } finally {
      this.core.release(mark);
    }
  }

  private rowOf(history: UserInteraction[]): Row {
    return toRow(history.map((x) => [this.items.get(x.itemId), x.value]), 'sum');
  }

}

/** The item → users matrix without user `u`'s entries (same shapes, order kept). */
function withoutUser(byItem: Csr, u: number): Csr {
  const keep = new Uint8Array(byItem.indices.length);
  const indptr = new Int32Array(byItem.rows + 1);
  for (let i = 0; i < byItem.rows; i++) {
    let n = 0;
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) if (byItem.indices[p] !== u) (keep[p] = 1), n++;
    indptr[i + 1] = indptr[i] + n;
  }
  const indices = byItem.indices.filter((_, p) => keep[p] === 1);
  const values = byItem.values.filter((_, p) => keep[p] === 1);
  return { rows: byItem.rows, indptr, indices, values };
}


/**
 * Cumulative work of the items, in the indptr form splitRows takes (item i's is prefix[i+1] −
 * prefix[i]): every co-rating it accumulates — the lengths of its users' rows, W — plus ranking
 * the co-rated items it touched (at most min(W, nItems), each a division and a heap test, ~4 co-
 * ratings' worth) plus a per-item constant for sorting and writing its list (fitted on
 * ml-latest-small and synthetic power-law data).
 */
function workPrefix(byItem: Csr, byUser: Csr, nItems: number): Float64Array {
  const prefix = new Float64Array(byItem.rows + 1);
  for (let i = 0; i < byItem.rows; i++) {
    let work = 0;
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
      const u = byItem.indices[p];
      work += byUser.indptr[u + 1] - byUser.indptr[u];
    }
    prefix[i + 1] = prefix[i] + work + 4 * Math.min(work, nItems) + 300;
  }
  return prefix;
}
