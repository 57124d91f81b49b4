import { z } from 'zod';
import { IdMap } from '../data/id-map.ts';
import { transpose, withoutRow, type Csr } from '../data/csr.ts';
import type { Interactions } from '../data/interactions.ts';
import { InvalidInputError } from '../errors.ts';
import { easeDowndate, easeScores, easeStride } from '../wasm/ease.ts';
import { runInline, runThreaded } from '../wasm/pool.ts';
import { selectTop } from '../wasm/topk.ts';
import { HistoryModel, explanationOf } from './history-model.ts';
import { easePlan, easeSchedule } from './ease-fit.ts';
import { DEFAULT_N, checkN, selectRanked, tombstone } from './factor-model.ts';
import { encodeModel, type ModelState } from './format.ts';
import { History, similarUsersByRows, toRow, type Row } from './history.ts';
import { parseParams, positive, seed, threads } from './params.ts';
import { stepCounter } from './progress.ts';
import type { Explanation, FitOptions, ModelOptions, Recommender, RecommendOptions, Scored, ScoredUser, UserInteraction } from './types.ts';

/**
 * The largest catalog `maxItems` may allow: B alone is 4·n² bytes of WebAssembly memory, which
 * stops at 4 GiB (30,000 items: 3.6 GB).
 */
export const EASE_ITEM_LIMIT = 30_000;

const schema = z
  .object({
    /**
     * λ, added to XᵀX's diagonal: the L2 penalty on B. It is on the scale of the squared
     * interaction values — with weight 1 per interaction, a few hundred suits MovieLens.
     */
    lambda: positive(200),
    /**
     * Refuse to fit catalogs larger than this: B takes 4·items² bytes and the fit up to
     * O(items³) time (20,000 items: 1.6 GB and minutes; see bench/results/ease.json).
     */
    maxItems: z.number().int().min(1).max(EASE_ITEM_LIMIT, `maxItems must be at most ${EASE_ITEM_LIMIT} (B must fit in 4 GiB of WebAssembly memory)`).default(20_000),
    /** Accepted for a uniform interface (tune and eval pass one); EASE has no randomness. */
    seed: seed(),
    threads: threads(),
  })
  .strict();
export type EaseParams = z.output<typeof schema>;

/** Below this, 1 − xᵀPx (an erasure's Sherman–Morrison denominator) has lost too many digits in f32: refit instead. */
const MIN_DOWNDATE_DENOMINATOR = 1e-3;
/** Floats of B copied per step of `restoring` (16 MB: a few milliseconds). */
const RESTORE_FLOATS_PER_STEP = 4 << 20;

/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): the item–item weights
 *   B = argmin ‖X − XB‖² + λ‖B‖²  subject to diag(B) = 0,
 * in closed form B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, X the user × item matrix of
 * interaction weights. A user's scores are their history times B, so fold-in is remembering the
 * history, and an explanation is exact: history item j adds x_j·B_ji to item i's score.
 *
 * Cost: 4·n² bytes for B, kept dense, and one symmetric inversion (blocked, SIMD, split over
 * `threads`): of XᵀX + λI (n items: n³/2 multiply-adds), or, when users are fewer, of
 * XXᵀ + λI by Woodbury (m users: m³/2, plus n·nnz/4 f32x4 steps) — see ease-fit.ts. Catalogs
 * above `maxItems` are refused; for them use `implicit-als` or `item-knn`.
 *
 * Erasure is exact without a refit: the user's training row leaves XᵀX as a rank-one downdate,
 * and B follows by Sherman–Morrison in O(n²) (see forgetUser).
 */
export class Ease extends HistoryModel implements Recommender {
  readonly algorithm = 'ease' as const;
  readonly params: Readonly<EaseParams>;
  /** The user → items rows B was computed from: training data minus erased users. */
  private trained: Csr | null = null;
  /** Its item → users transpose, for similarUsers; rebuilt after an erasure. */
  private trainedByItem: Csr | null = null;
  /** diag P = diag((XᵀX + λI)⁻¹), which erasure needs to recover P from B. */
  private diag = new Float32Array(0);
  /** B in core memory: items rows of `stride` floats. */
  private B = 0;
  private stride = 0;
  /** Floats the B buffer has room for (a refit reuses it). */
  private capacity = 0;

  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    super(options);
    this.params = parseParams(schema, params);
  }

  /**
   * Progress counts the Gram, two steps per block of 128 rows of the matrix inverted (items, or
   * users when there are fewer: see easePlan) and the steps that turn the inverse into B.
   */
  fit(data: Interactions, options: FitOptions = {}): this {
    this.assertLive();
    this.layOut(data);
    const plan = easePlan(this.trained!, this.items.size);
    runInline(this.core, this.schedule(plan), stepCounter(plan.steps, options.onProgress));
    this.fitted = true;
    return this;
  }

  /**
   * Fits with `threads` threads (the calling thread and threads − 1 workers): the same steps, each
   * split over the threads, bit-identical to `fit`. Do not use the model until the promise settles.
   */
  async fitAsync(data: Interactions, options: FitOptions = {}): Promise<this> {
    if (this.params.threads <= 1) return this.fit(data, options);
    this.assertLive();
    this.fitted = false;
    this.checkSize(data.items.size);
    const byUser = data.byUser();
    const plan = easePlan(byUser, data.items.size);
    await runThreaded(this.core, this.params.threads, () => {
      this.layOut(data, byUser);
      return this.schedule(plan);
    }, stepCounter(plan.steps, options.onProgress));
    this.fitted = true;
    return this;
  }

  /** Ids, history, training rows and B's buffer for a fit on `data`. */
  private layOut(data: Interactions, byUser = data.byUser()): void {
    this.checkSize(data.items.size);
    this.fitted = false;
    this.users = IdMap.from(data.users.toArray());
    this.items = IdMap.from(data.items.toArray());
    this.trained = byUser;
    this.trainedByItem = null;
    this.history = new History(this.trained);
    this.reserve(easeStride(data.items.size));
  }

  private schedule(plan = easePlan(this.trained!, this.items.size)) {
    const n = this.items.size;
    this.diag = new Float32Array(n);
    const target = { A: this.B, stride: this.stride, n, lambda: this.params.lambda, threads: this.params.threads };
    return easeSchedule(this.core, this.trained!, target, this.diag, plan);
  }

  /** The documented size rule, before any memory is taken. */
  private checkSize(nItems: number): void {
    const max = this.params.maxItems;
    if (nItems <= max) return;
    const gb = ((4 * nItems * nItems) / 1e9).toFixed(1);
    throw new InvalidInputError(
      `ease cannot fit ${nItems.toLocaleString('en-US')} items: above maxItems ${max.toLocaleString('en-US')} ` +
        `(it keeps a dense items × items matrix, ${gb} GB here, and its fit grows as min(users, items)³). ` +
        `For a catalog this large set engine.algorithm to 'implicit-als' or 'item-knn', or raise maxItems (at most ${EASE_ITEM_LIMIT.toLocaleString('en-US')}).`,
      'maxItems',
    );
  }

  /** B's buffer for a stride×stride matrix, reused when big enough. */
  private reserve(stride: number): void {
    this.stride = stride;
    if (stride * stride <= this.capacity) return;
    this.B = this.core.allocF32(stride * stride);
    this.capacity = stride * stride;
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

  /** B's row for the item: what having it in a history adds to every other item's score. */
  similarItems(itemId: string, n = DEFAULT_N): Scored[] {
    const i = this.itemIndex(itemId);
    checkN(n);
    const mark = this.core.mark();
    try {
      const exclude = this.core.putI32([i]);
      const outIdx = this.core.allocI32(n);
      const outScores = this.core.allocF32(n);
      const count = selectTop(this.core, this.B + i * this.stride * 4, this.items.size, exclude, 1, 0, n, outIdx, outScores);
      const idx = this.core.i32(outIdx, count);
      const sc = this.core.f32(outScores, count);
      return Array.from(idx, (j, t) => ({ itemId: this.items.id(j), score: sc[t] }));
    } finally {
      this.core.release(mark);
    }
  }

  /** Cosine similarity of users' interaction rows, over the users B was trained on. */
  similarUsers(userId: string, n = DEFAULT_N): ScoredUser[] {
    const u = this.userIndex(userId);
    checkN(n);
    return similarUsersByRows(u, n, this.history, (this.trainedByItem ??= transpose(this.trained!, this.items.size)), (v) => this.users.id(v));
  }

  /** EASE keeps no user vector: a user's scores are their history times B, so folding in is remembering it. */
  foldInUser(userId: string, history: UserInteraction[]): Float32Array {
    this.assertReady();
    const row = this.rowOf(history);
    this.history.set(this.users.add(userId), row);
    return new Float32Array(0);
  }

  /**
   * Erases a user. B is a function of XᵀX, so their training row x must leave it: XᵀX − xxᵀ is a
   * rank-one downdate, and with P = (XᵀX + λI)⁻¹ recovered from B and diag P,
   *   v = P·x = diag P ⊙ (x − xB),  s = 1 − xᵀv,  P' = P + v·vᵀ/s   (Sherman–Morrison),
   *   B'_ij = B_ij·(P_jj / P'_jj) − v_i·v_j / (s·P'_jj),  B'_ii = 0,
   * one O(n²) pass, so B equals a fit without the user up to f32 round-off. When s is too small
   * for that in f32 (a user holding much of the data at a small λ), B is refitted from the
   * remaining training rows instead, exactly. Users only folded in are in no part of B.
   */
  forgetUser(userId: string): void {
    const u = this.userIndex(userId);
    this.history.set(u, toRow([], 'sum'));
    this.users.rename(u, tombstone(u));
    const trained = this.trained!;
    if (u >= trained.rows) return;
    const start = trained.indptr[u];
    const end = trained.indptr[u + 1];
    if (end === start) return;
    const row: Row = { indices: trained.indices.slice(start, end), values: trained.values.slice(start, end) };
    this.trained = withoutRow(trained, u);
    this.trainedByItem = null;
    this.downdate(row);
  }

  private downdate(x: Row): void {
    const n = this.items.size;
    const S = this.stride;
    const b = this.core.f32(this.B, n * S);
    const xb = new Float64Array(n);
    for (let t = 0; t < x.indices.length; t++) {
      const base = x.indices[t] * S;
      const w = x.values[t];
      for (let j = 0; j < n; j++) xb[j] += w * b[base + j];
    }
    const v = new Float64Array(n);
    for (let j = 0; j < n; j++) v[j] = -this.diag[j] * xb[j];
    let xv = 0;
    for (let t = 0; t < x.indices.length; t++) {
      const j = x.indices[t];
      v[j] += this.diag[j] * x.values[t];
      xv += x.values[t] * v[j];
    }
    const s = 1 - xv;
    if (!(s >= MIN_DOWNDATE_DENOMINATOR)) {
      runInline(this.core, this.schedule());
      return;
    }
    const diag = new Float32Array(n);
    const alpha = new Float32Array(n);
    const beta = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const after = this.diag[j] + (v[j] * v[j]) / s;
      diag[j] = after;
      alpha[j] = this.diag[j] / after;
      beta[j] = v[j] / (s * after);
    }
    const mark = this.core.mark();
    try {
      easeDowndate(this.core, this.B, S, n, this.core.putF32(alpha), this.core.putF32(beta), this.core.putF32(v), 0, n);
    } finally {
      this.core.release(mark);
    }
    this.diag = diag;
  }

  explain(userId: string, itemId: string, n = DEFAULT_N): Explanation {
    const i = this.itemIndex(itemId);
    return explanationOf(this.contributions(this.history.row(this.userIndex(userId)), i), n);
  }

  save(): Uint8Array {
    this.assertReady();
    const seen = this.history.toCsr(this.users.size);
    const trained = this.trained!;
    return encodeModel({
      algorithm: this.algorithm,
      params: { ...this.params },
      users: this.users.toArray(),
      items: this.items.toArray(),
      scalars: { stride: this.stride },
      arrays: {
        // A view, not a copy: encodeModel copies it into the file.
        B: this.core.f32(this.B, this.items.size * this.stride),
        diag: this.diag,
        seenIndptr: seen.indptr, seenIndices: seen.indices, seenValues: seen.values,
        trainIndptr: trained.indptr, trainIndices: trained.indices, trainValues: trained.values,
      },
    });
  }

  restore(state: ModelState): this {
    const steps = this.restoring(state);
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /** `restore` in steps: B is copied RESTORE_FLOATS_PER_STEP at a time (see loadModelInSlices). */
  *restoring(state: ModelState): Generator<void, this> {
    this.assertLive();
    const a = state.arrays;
    const n = state.items.length;
    const stride = state.scalars.stride;
    if (stride !== easeStride(n) || a.B.length !== n * stride || a.diag.length !== n) {
      throw new InvalidInputError('model file is inconsistent: the ease matrix does not match the item list', 'model');
    }
    this.users = IdMap.from(state.users);
    this.items = IdMap.from(state.items);
    this.reserve(stride);
    const rows = Math.max(1, Math.floor(RESTORE_FLOATS_PER_STEP / stride));
    for (let r = 0; r < n; r += rows) {
      yield;
      const end = Math.min(r + rows, n);
      this.core.f32(this.B + r * stride * 4, (end - r) * stride).set(a.B.subarray(r * stride, end * stride));
    }
    // Copies: the decoded arrays may be views into the caller's bytes.
    this.diag = (a.diag as Float32Array).slice();
    this.history = new History({ rows: state.users.length, indptr: (a.seenIndptr as Int32Array).slice(), indices: (a.seenIndices as Int32Array).slice(), values: (a.seenValues as Float32Array).slice() });
    this.trained = { rows: a.trainIndptr.length - 1, indptr: (a.trainIndptr as Int32Array).slice(), indices: (a.trainIndices as Int32Array).slice(), values: (a.trainValues as Float32Array).slice() };
    this.trainedByItem = null;
    this.fitted = true;
    return this;
  }

  /** x_j·B_ji for each item j of the row: exactly what each adds to item i's score. */
  private contributions(row: Row, item: number): Array<{ itemId: string; weight: number }> {
    const b = this.core.f32(this.B, this.items.size * this.stride);
    return Array.from(row.indices, (j, t) => ({ itemId: this.items.id(j), weight: row.values[t] * b[j * this.stride + item] }));
  }

  private rank(row: Row, options: RecommendOptions): Scored[] {
    const n = options.n ?? DEFAULT_N;
    checkN(n);
    const nItems = this.items.size;
    const mark = this.core.mark();
    try {
      const scores = this.core.allocF32(nItems);
      easeScores(this.core, this.B, this.stride, nItems, this.core.putI32(row.indices), this.core.putF32(row.values), row.indices.length, scores);
      return selectRanked(this.core, this.items, scores, nItems, row.indices, 0, n, options);
    } finally {
      this.core.release(mark);
    }
  }

  /** A history as a row over known items (unknown items have no row of B and are dropped). */
  private rowOf(history: UserInteraction[]): Row {
    return toRow(history.map((x) => [this.items.get(x.itemId), checkValue(x.value)]), 'sum');
  }

}


function checkValue(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(`interaction value must be a finite number, got ${String(value)}`, 'value');
  }
  return value;
}
