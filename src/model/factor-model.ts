import type { Core } from '../wasm/core.ts';
import { CorePool, runInline, runThreaded, type Schedule } from '../wasm/pool.ts';
import { scoreItems, selectTop } from '../wasm/topk.ts';
import { IdMap } from '../data/id-map.ts';
import type { Interactions } from '../data/interactions.ts';
import { InvalidInputError, ModelStateError, UnknownIdError } from '../errors.ts';
import { CoreOwner } from './core-owner.ts';
import { encodeModel, type ModelState } from './format.ts';
import { History, toRow, type Row } from './history.ts';
import { buildIndexArrays, type IndexBuildOptions } from './item-index-build.ts';
import { indexFromFile, indexToFile, ItemIndex, type ItemRows } from './item-index.ts';
import { approximateTop, SIMILAR_PROBE_SHARE } from './approximate.ts';
import type { Params } from './params.ts';
import { stepCounter } from './progress.ts';
import { kmeans, pca2 } from './segments.ts';
import { Side } from './side.ts';
import type {
  Explanation, FitOptions, LatentFactors, ModelOptions, Recommender, RecommendOptions, Scored, ScoredUser, UserInteraction,
} from './types.ts';

export const DEFAULT_N = 10;

/**
 * The shared machinery of latent-factor models (ALS, implicit ALS, SVD): id maps, factor
 * matrices in WebAssembly memory, scoring, top-N, similarity, fold-in and saving. Each
 * algorithm supplies how to train and how to solve one row with the other side fixed.
 */
export abstract class FactorModel<P extends Params & { factors: number }> extends CoreOwner implements Recommender, LatentFactors {
  protected users!: Side;
  protected items!: Side;
  protected history = new History(null);
  /** Global mean rating (explicit models); 0 for implicit ones. */
  protected mean = 0;
  /** The rating scale seen in training: rating predictions are clipped to it, like Surprise does. */
  private scale: [number, number] = [-Infinity, Infinity];
  /** Items [0, trainedItems) had training data; later ones were added by cold start or fold-in. */
  private trainedItems = 0;
  private itemNorms: Float32Array | null = null;
  /** Approximate top-N indexes over the items, when built (see buildIndex): by score, and by direction for similar items. */
  private index: ItemIndex | null = null;
  private similarIndex: ItemIndex | null = null;

  protected constructor(
    readonly params: Readonly<P>,
    /** Whether scores include mean + user bias + item bias (rating models). */
    protected readonly withBias: boolean,
    /** How repeated (user, item) pairs in a history combine. */
    protected readonly combine: 'last' | 'sum',
    options: ModelOptions = {},
  ) {
    super(options);
  }

  get userCount(): number {
    return this.fitted ? this.users.size : 0;
  }

  get itemCount(): number {
    return this.fitted ? this.items.size : 0;
  }

  get latent(): LatentFactors {
    return this;
  }

  get factors(): number {
    return this.params.factors;
  }

  /** Lays out the starting factors (seeded) before the training steps run. */
  protected abstract initialize(data: Interactions): void;

  /** The training steps as core calls, one batch per thread per step (see src/wasm/pool.ts). */
  protected abstract schedule(data: Interactions): Schedule;

  /** How many steps `schedule` yields: the `total` a fit's progress counts to. */
  protected abstract stepCount(): number;

  /** Set while fitAsync runs fit() for its setup only; the steps then run on the thread pool. */
  private deferTraining = false;

  /** Trains `users` and `items` from scratch on `data`, on the calling thread. */
  private train(data: Interactions, options: FitOptions): void {
    this.initialize(data);
    if (!this.deferTraining) runInline(this.core, this.schedule(data), stepCounter(this.stepCount(), options.onProgress));
  }

  /**
   * Trains with `params.threads` threads (the calling thread and threads − 1 workers sharing
   * the core's memory). With one thread this is `fit`. Do not use the model until it settles.
   */
  async fitAsync(data: Interactions, options: FitOptions = {}): Promise<this> {
    const threads = Number(this.params.threads ?? 1);
    if (threads <= 1) return this.fit(data, options);
    let laidOut = false;
    try {
      await runThreaded(this.core, threads, () => {
        this.deferTraining = true;
        try {
          this.fit(data); // ids, history, mean, initial factors, while the workers boot
        } finally {
          this.deferTraining = false;
        }
        laidOut = true;
        return this.schedule(data);
      }, stepCounter(this.stepCount(), options.onProgress));
    } catch (error) {
      // The factors are half-trained: the model must not be used.
      if (laidOut) this.fitted = false;
      throw error;
    }
    this.markFitted();
    return this;
  }

  /**
   * Solves one row of `target` from `row` (indices into `other`), holding `other` fixed.
   * `out` holds the warm start (current vector or zeros) on entry.
   */
  protected abstract solveRow(row: Row, other: Side, out: number, outBias: number): void;

  /** The user's items that contribute most to the score of `item`, by algorithm. */
  protected abstract contributions(user: number, item: number): Array<{ item: number; weight: number }>;

  fit(data: Interactions, options: FitOptions = {}): this {
    this.assertLive();
    this.users = new Side(this.core, this.params.factors, this.withBias, IdMap.from(data.users.toArray()));
    this.items = new Side(this.core, this.params.factors, this.withBias, IdMap.from(data.items.toArray()));
    this.dropIndex();
    this.users.reserve(data.users.size);
    this.items.reserve(data.items.size);
    this.history = new History(data.byUser());
    this.mean = this.withBias ? data.mean() : 0;
    this.scale = this.withBias ? range(data.values) : [-Infinity, Infinity];
    this.train(data, options);
    this.markFitted();
    return this;
  }

  /** Called whenever item vectors change, so cached item-side state can be dropped. */
  protected itemsChanged(): void {
    this.itemNorms = null;
  }

  /** Called whenever user vectors change (training, fold-in, erasure): drop user-side caches. */
  protected usersChanged(): void {}

  /**
   * `trainedItems`: how many leading items were learned in training (a restored model says; a fit
   * learned them all). `verify`: scan the factors for NaN or infinity (a diverged fit).
   */
  protected markFitted(trainedItems = this.items.size, verify = true): void {
    this.trainedItems = trainedItems;
    this.itemsChanged();
    this.usersChanged();
    if (verify && (!this.users.isFinite() || !this.items.isFinite())) {
      this.fitted = false;
      throw new ModelStateError(`${this.algorithm} training diverged: factors contain NaN or infinity; lower the learning rate or raise regularization`);
    }
    this.fitted = true;
  }

  hasUser(userId: string): boolean {
    return this.fitted && this.users.ids.has(userId);
  }

  hasProfile(userId: string): boolean {
    const u = this.hasUser(userId) ? this.users.ids.get(userId) : -1;
    return u >= 0 && this.profiled(u);
  }

  /**
   * Whether user row `u` has something to recommend from: interactions, or a vector learned
   * elsewhere without them (the users of a model imported from Spark). A fold-in over nothing,
   * a quarantine and an erasure leave neither.
   */
  private profiled(u: number): boolean {
    return this.history.row(u).indices.length > 0 || this.core.f32(this.users.row(u), this.params.factors).some((x) => x !== 0);
  }

  hasItem(itemId: string): boolean {
    return this.fitted && this.items.ids.has(itemId);
  }

  recommend(userId: string, options: RecommendOptions = {}): Scored[] {
    const u = this.userIndex(userId);
    const constant = this.withBias ? this.mean + this.users.biasAt(u) : 0;
    return this.rank(this.users.row(u), constant, this.history.row(u).indices, options);
  }

  recommendFor(history: UserInteraction[], options: RecommendOptions = {}): Scored[] {
    this.assertReady();
    const row = this.rowOf(history);
    const mark = this.core.mark();
    try {
      const vec = this.core.allocF32(this.params.factors + 1);
      this.core.f32(vec, this.params.factors + 1).fill(0);
      const bias = vec + this.params.factors * 4;
      this.solveRow(row, this.items, vec, this.withBias ? bias : 0);
      const constant = this.withBias ? this.mean + this.core.f32(bias, 1)[0] : 0;
      return this.rank(vec, constant, row.indices, options);
    } finally {
      this.core.release(mark);
    }
  }

  predict(userId: string, itemId: string): number {
    const u = this.userIndex(userId);
    const i = this.itemIndex(itemId);
    const k = this.params.factors;
    const p = this.core.f32(this.users.row(u), k);
    const q = this.core.f32(this.items.row(i), k);
    let s = this.withBias ? this.mean + this.users.biasAt(u) + this.items.biasAt(i) : 0;
    for (let f = 0; f < k; f++) s += p[f] * q[f];
    return this.clip(s);
  }

  private clip(rating: number): number {
    return Math.min(Math.max(rating, this.scale[0]), this.scale[1]);
  }

  /** The prediction when both ids are known, else the global mean plus whichever biases are known. */
  predictOrFallback(userId: string, itemId: string): number {
    this.assertReady();
    const u = this.users.ids.get(userId);
    const i = this.items.ids.get(itemId);
    if (u >= 0 && i >= 0) return this.predict(userId, itemId);
    return this.clip(this.mean + (u >= 0 ? this.users.biasAt(u) : 0) + (i >= 0 ? this.items.biasAt(i) : 0));
  }

  similarItems(itemId: string, n = DEFAULT_N): Scored[] {
    const i = this.itemIndex(itemId);
    checkN(n);
    if (this.similarIndex) return this.similarApproximate(this.similarIndex, i, n);
    const norms = (this.itemNorms ??= this.norms(this.items));
    return this.cosineTop(this.items, norms, i, n).map(([j, score]) => ({ itemId: this.items.ids.id(j), score }));
  }

  similarUsers(userId: string, n = DEFAULT_N): ScoredUser[] {
    const u = this.userIndex(userId);
    checkN(n);
    return this.cosineTop(this.users, this.norms(this.users), u, n).map(([v, score]) => ({ userId: this.users.ids.id(v), score }));
  }

  foldInUser(userId: string, history: UserInteraction[]): Float32Array {
    this.assertReady();
    const row = this.rowOf(history);
    const u = this.users.add(userId);
    this.solveRow(row, this.items, this.users.row(u), this.withBias ? this.users.bias + u * 4 : 0);
    this.usersChanged();
    this.history.set(u, row);
    return this.core.f32(this.users.row(u), this.params.factors).slice();
  }

  forgetUser(userId: string): void {
    const u = this.userIndex(userId);
    this.core.f32(this.users.row(u), this.params.factors).fill(0);
    if (this.withBias) this.core.f32(this.users.bias + u * 4, 1)[0] = 0;
    this.usersChanged();
    this.history.set(u, toRow([], this.combine));
    this.users.ids.rename(u, tombstone(u));
  }

  /**
   * Recomputes one item's vector from the users who interacted with it, with user factors held
   * fixed; adds the item when new (cold start as feedback arrives).
   */
  foldInItem(itemId: string, interactions: Array<{ userId: string; value: number }>): Float32Array {
    this.assertReady();
    const pairs: Array<[number, number]> = interactions.map((x) => [this.users.ids.get(x.userId), checkValue(x.value)]);
    const row = toRow(pairs, this.combine);
    const i = this.items.add(itemId);
    this.solveRow(row, this.users, this.items.row(i), this.withBias ? this.items.bias + i * 4 : 0);
    this.indexes().forEach((index) => index.changed(i));
    this.itemsChanged();
    return this.core.f32(this.items.row(i), this.params.factors).slice();
  }

  /** Sets an item's vector directly (cold start from similar items before any feedback). */
  setItemVector(itemId: string, vector: ArrayLike<number>): void {
    this.assertReady();
    if (vector.length !== this.params.factors) throw new InvalidInputError(`item vector must have ${this.params.factors} values`, 'vector');
    const i = this.items.add(itemId);
    this.core.f32(this.items.row(i), this.params.factors).set(vector);
    this.indexes().forEach((index) => index.changed(i));
    this.itemsChanged();
  }

  /**
   * k-means over unit user vectors (in the WebAssembly core). Users without a profile are left out;
   * beyond `sample` users an even stride is clustered, which is plenty to place centroids.
   */
  clusterUsers(clusters: number, seed: number, sample = 20_000): { users: string[]; labels: Int32Array; centroids: Float32Array; k: number } {
    const { users, rows } = this.profiledRows(sample);
    const k = this.params.factors;
    if (users.length === 0) return { users, labels: new Int32Array(0), centroids: new Float32Array(0), k };
    return this.withUnitRows(rows, (points) => {
      const result = kmeans(this.core, points, rows.length, k, Math.min(clusters, rows.length), { seed });
      return { users, labels: result.labels, centroids: result.centroids, k };
    });
  }

  /** User vectors, scaled to unit length, projected on their two principal components (a 2-D map of tastes). */
  projectUsers(sample = 20_000): { users: string[]; coords: Float32Array; explained: [number, number] } {
    const { users, rows } = this.profiledRows(sample);
    if (users.length < 2) return { users, coords: new Float32Array(users.length * 2), explained: [0, 0] };
    return this.withUnitRows(rows, (points) => {
      const result = pca2(this.core, points, rows.length, this.params.factors);
      return { users, coords: result.coords, explained: result.explained };
    });
  }

  userSnapshot(): { vectors: Float32Array; rowOf(userId: string): number } {
    const rows = this.users.size;
    const vectors = this.core.f32(this.users.factors, rows * this.params.factors).slice();
    const ids = this.users.ids;
    // The live id map: erasure renames a row's id, so an erased user is not found here either.
    return { vectors, rowOf: (userId) => (this.fitted ? ids.get(userId) : -1) };
  }

  private profiledRows(sample: number): { users: string[]; rows: number[] } {
    const size = this.users.size;
    const stride = Math.max(1, Math.ceil(size / sample));
    const users: string[] = [];
    const rows: number[] = [];
    for (let u = 0; u < size; u += stride) {
      if (!this.profiled(u)) continue;
      users.push(this.users.ids.id(u));
      rows.push(u);
    }
    return { users, rows };
  }

  /**
   * Copies the given user rows, scaled to unit length, into contiguous scratch memory for a
   * kernel. Unit rows: segments and the segment map group users by the direction of their taste,
   * not by how much they interact (a vector's norm grows with activity and would dominate).
   */
  private withUnitRows<T>(rows: number[], fn: (points: number) => T): T {
    const k = this.params.factors;
    const mark = this.core.mark();
    try {
      const points = this.core.allocF32(rows.length * k);
      const view = this.core.f32(points, rows.length * k);
      this.copyRows(rows, view);
      normalizeRows(view, k);
      return fn(points);
    } finally {
      this.core.release(mark);
    }
  }

  /** User rows `rows` of the factor matrix, one after another into `out`. */
  private copyRows(rows: number[], out: Float32Array): void {
    const k = this.params.factors;
    rows.forEach((u, t) => out.set(this.core.f32(this.users.row(u), k), t * k));
  }

  /** Whether the item's vector was learned in training (not set by cold start or fold-in). */
  itemTrained(itemId: string): boolean {
    const i = this.fitted ? this.items.ids.get(itemId) : -1;
    return i >= 0 && i < this.trainedItems;
  }

  /** A copy of the user's vector. */
  userVector(userId: string): Float32Array {
    return this.core.f32(this.users.row(this.userIndex(userId)), this.params.factors).slice();
  }

  itemVector(itemId: string): Float32Array {
    return this.core.f32(this.items.row(this.itemIndex(itemId)), this.params.factors).slice();
  }

  historyLength(userId: string): number {
    return this.hasUser(userId) ? this.history.row(this.userIndex(userId)).indices.length : 0;
  }

  userHistory(userId: string): UserInteraction[] {
    const row = this.history.row(this.userIndex(userId));
    return Array.from(row.indices, (i, t) => ({ itemId: this.items.ids.id(i), value: row.values[t] }));
  }

  explain(userId: string, itemId: string, n = DEFAULT_N): Explanation {
    const u = this.userIndex(userId);
    const i = this.itemIndex(itemId);
    const contributions = this.contributions(u, i)
      .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.item - b.item)
      .slice(0, n)
      .map((c) => ({ itemId: this.items.ids.id(c.item), weight: c.weight }));
    return { score: this.predict(userId, itemId), contributions };
  }

  save(): Uint8Array {
    this.assertReady();
    const users = this.users.snapshot();
    const items = this.items.snapshot();
    const seen = this.history.toCsr(this.users.size);
    const arrays: ModelState['arrays'] = {
      userFactors: users.factors,
      itemFactors: items.factors,
      seenIndptr: seen.indptr,
      seenIndices: seen.indices,
      seenValues: seen.values,
    };
    if (users.bias && items.bias) Object.assign(arrays, { userBias: users.bias, itemBias: items.bias });
    const index = this.index?.toArrays();
    if (index) Object.assign(arrays, indexToFile(index, INDEX_PREFIX));
    if (this.similarIndex) Object.assign(arrays, indexToFile(this.similarIndex.toArrays(), SIMILAR_PREFIX));
    return encodeModel({
      algorithm: this.algorithm,
      params: { ...this.params },
      users: this.users.ids.toArray(),
      items: this.items.ids.toArray(),
      scalars: {
        mean: this.mean, minRating: this.scale[0], maxRating: this.scale[1], trainedItems: this.trainedItems,
        ...(index ? { annAugment: index.augment ? 1 : 0 } : {}),
      },
      arrays,
    });
  }

  /** Rebuilds this (unfitted) model from a decoded state; used by `loadModel`. */
  restore(state: ModelState): this {
    const steps = this.restoring(state);
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /**
   * `restore` as steps of a few milliseconds each (ids in chunks, then the matrices, then the
   * histories), for a caller that serves between them (`loadModelInSlices`). The model must not
   * be used before the last step.
   */
  *restoring(state: ModelState): Generator<void, this> {
    this.assertLive();
    const k = this.params.factors;
    const { arrays } = state;
    if (arrays.userFactors.length !== state.users.length * k || arrays.itemFactors.length !== state.items.length * k) {
      throw new InvalidInputError('model file is inconsistent: factor matrix sizes do not match the id lists', 'model');
    }
    const userIds = yield* idMapInSteps(state.users);
    const itemIds = yield* idMapInSteps(state.items);
    this.users = new Side(this.core, k, this.withBias, userIds);
    this.users.restore(arrays.userFactors as Float32Array, (arrays.userBias as Float32Array) ?? null);
    yield;
    this.items = new Side(this.core, k, this.withBias, itemIds);
    this.items.restore(arrays.itemFactors as Float32Array, (arrays.itemBias as Float32Array) ?? null);
    const index = indexFromFile(arrays, INDEX_PREFIX, { augment: state.scalars.annAugment !== 0, unit: false });
    const similar = indexFromFile(arrays, SIMILAR_PREFIX, { augment: false, unit: true });
    this.index = index && new ItemIndex(this.core, index, true);
    this.similarIndex = similar && new ItemIndex(this.core, similar);
    yield;
    if (this.index) yield* this.index.gathering(this.itemRows());
    this.history = new History({
      rows: state.users.length,
      indptr: (arrays.seenIndptr as Int32Array).slice(),
      indices: (arrays.seenIndices as Int32Array).slice(),
      values: (arrays.seenValues as Float32Array).slice(),
    });
    this.mean = state.scalars.mean ?? 0;
    this.scale = [state.scalars.minRating ?? -Infinity, state.scalars.maxRating ?? Infinity];
    // Items placed by cold start before the save stay untrained after a load (older files: all
    // trained). The factors were checked finite when they were fitted; the file's checksum vouches
    // for them since, so a load skips the scan.
    this.markFitted(Math.min(state.scalars.trainedItems ?? state.items.length, state.items.length), false);
    return this;
  }

  // ---- helpers shared by subclasses ----

  protected userIndex(userId: string): number {
    this.assertReady();
    const u = this.users.ids.get(userId);
    if (u < 0) throw new UnknownIdError('user', userId);
    return u;
  }

  protected itemIndex(itemId: string): number {
    this.assertReady();
    const i = this.items.ids.get(itemId);
    if (i < 0) throw new UnknownIdError('item', itemId);
    return i;
  }

  /** A history as a row over known items (unknown items carry no factors and are dropped). */
  protected rowOf(history: UserInteraction[]): Row {
    return toRow(history.map((x) => [this.items.ids.get(x.itemId), checkValue(x.value)]), this.combine);
  }

  private rank(vec: number, constant: number, seen: Int32Array, options: RecommendOptions): Scored[] {
    const n = options.n ?? DEFAULT_N;
    checkN(n);
    const ranked = this.rankApproximate(vec, constant, seen, n, options) ?? this.rankExact(vec, constant, seen, n, options);
    // Rating models report predicted ratings, so keep them on the rating scale (order is unchanged).
    return this.withBias ? ranked.map((r) => ({ itemId: r.itemId, score: this.clip(r.score) })) : ranked;
  }

  private rankExact(vec: number, constant: number, seen: Int32Array, n: number, options: RecommendOptions): Scored[] {
    const nItems = this.items.size;
    const mark = this.core.mark();
    try {
      const scores = this.core.allocF32(nItems);
      scoreItems(this.core, this.items.factors, this.withBias ? this.items.bias : 0, nItems, this.params.factors, vec, scores);
      return selectRanked(this.core, this.items.ids, scores, nItems, seen, constant, n, options);
    } finally {
      this.core.release(mark);
    }
  }

  /** The index's answer, or null when there is no index, `exact` is asked, or too few candidates survive the filters. */
  private rankApproximate(vec: number, constant: number, seen: Int32Array, n: number, options: RecommendOptions): Scored[] | null {
    const index = this.index;
    if (!index || options.exact) return null;
    const exclude = Int32Array.from(excludedItems(this.items.ids, seen, options)).sort();
    const ids = this.items.ids;
    const { candidates, filter } = options;
    const allowed = candidates || filter
      ? (i: number) => (!candidates || candidates[i] === 1) && (!filter || filter(ids.id(i)))
      : null;
    const ranked = approximateTop((m, probes) => index.search(this.itemRows(), vec, exclude, m, probes), n, allowed, index.listCount, this.items.size);
    return ranked && Array.from(ranked.items, (i, t) => ({ itemId: ids.id(i), score: ranked.scores[t] + constant }));
  }

  /** Cosine neighbours from the index; the exact scan when the probed lists hold too few. */
  private similarApproximate(index: ItemIndex, i: number, n: number): Scored[] {
    const k = this.params.factors;
    const own = Math.hypot(...this.core.f32(this.items.row(i), k)) || 1;
    const exclude = Int32Array.of(i);
    const ranked = approximateTop((m, probes) => index.search(this.itemRows(), this.items.row(i), exclude, m, probes), n, null, index.listCount, this.items.size, SIMILAR_PROBE_SHARE);
    if (!ranked) {
      const norms = (this.itemNorms ??= this.norms(this.items));
      return this.cosineTop(this.items, norms, i, n).map(([j, score]) => ({ itemId: this.items.ids.id(j), score }));
    }
    return Array.from(ranked.items, (j, t) => ({ itemId: this.items.ids.id(j), score: ranked.scores[t] / own }));
  }

  private itemRows(): ItemRows {
    return { factors: this.items.factors, bias: this.withBias ? this.items.bias : 0, k: this.params.factors, size: this.items.size };
  }

  /**
   * Builds the approximate top-N indexes over the items as they are now (tens of seconds per
   * million items: call it off the serving thread, as the engine's training thread does). From
   * then on recommend, recommendFor and similarItems search them unless asked for `exact`; they
   * are saved with the model.
   */
  async buildIndex(options: IndexBuildOptions = {}): Promise<void> {
    this.assertReady();
    this.dropIndex();
    const threads = options.threads ?? 1;
    const pool = threads > 1 ? new CorePool(this.core, threads) : null;
    try {
      const index = await buildIndexArrays(this.core, this.itemRows(), { ...options, unit: false }, pool);
      const similar = await buildIndexArrays(this.core, this.itemRows(), { ...options, unit: true }, pool);
      this.index = new ItemIndex(this.core, index, true);
      this.index.gather(this.itemRows());
      this.similarIndex = new ItemIndex(this.core, similar);
    } finally {
      await pool?.close();
    }
  }

  /** Back to exact scoring only. The indexes' core memory stays allocated until the model is disposed. */
  dropIndex(): void {
    this.index = null;
    this.similarIndex = null;
  }

  get indexed(): boolean {
    return this.index !== null;
  }

  get indexBytes(): number {
    return this.indexes().reduce((sum, index) => sum + index.bytes, 0);
  }

  setItemRetired(itemId: string, retired: boolean): void {
    const i = this.fitted ? this.items.ids.get(itemId) : -1;
    if (i >= 0) this.indexes().forEach((index) => index.setRetired(i, retired));
  }

  private indexes(): ItemIndex[] {
    return [this.index, this.similarIndex].filter((index) => index !== null);
  }

  private norms(side: Side): Float32Array {
    const k = this.params.factors;
    const m = this.core.f32(side.factors, side.size * k);
    const norms = new Float32Array(side.size);
    for (let r = 0; r < side.size; r++) {
      let s = 0;
      for (let f = r * k; f < (r + 1) * k; f++) s += m[f] * m[f];
      norms[r] = Math.sqrt(s);
    }
    return norms;
  }

  private cosineTop(side: Side, norms: Float32Array, self: number, n: number): Array<[number, number]> {
    const size = side.size;
    const mark = this.core.mark();
    try {
      const scores = this.core.allocF32(size);
      scoreItems(this.core, side.factors, 0, size, this.params.factors, side.row(self), scores);
      const view = this.core.f32(scores, size);
      const own = norms[self] || 1;
      for (let j = 0; j < size; j++) view[j] = norms[j] > 0 ? view[j] / (norms[j] * own) : 0;
      const exclude = this.core.putI32([self]);
      const outIdx = this.core.allocI32(n);
      const outScores = this.core.allocF32(n);
      const count = selectTop(this.core, scores, size, exclude, 1, 0, n, outIdx, outScores);
      const idx = this.core.i32(outIdx, count);
      const sc = this.core.f32(outScores, count);
      return Array.from(idx, (j, t) => [j, sc[t]] as [number, number]);
    } finally {
      this.core.release(mark);
    }
  }
}

/**
 * Top-n selection over `scores` (already in core memory) honouring seen items, the exclude
 * list and the candidate filter. Shared by every model that ranks a whole catalog.
 */
export function selectRanked(
  core: Core, items: IdMap, scores: number, nItems: number, seen: Int32Array, constant: number, n: number, options: RecommendOptions,
): Scored[] {
  const excluded = excludedItems(items, seen, options);
  const exclude = core.putI32(Int32Array.from(excluded).sort());
  let mask = 0;
  if (options.candidates || options.filter) {
    mask = core.alloc(nItems);
    const view = core.u8(mask, nItems);
    // Items added after the caller built its mask are not candidates (fresh memory may be stale).
    view.fill(options.candidates ? 0 : 1);
    if (options.candidates) view.set(options.candidates.subarray(0, nItems));
    if (options.filter) for (let i = 0; i < nItems; i++) if (view[i] && !options.filter(items.id(i))) view[i] = 0;
  }
  const outIdx = core.allocI32(n);
  const outScores = core.allocF32(n);
  const count = selectTop(core, scores, nItems, exclude, excluded.size, mask, n, outIdx, outScores);
  const idx = core.i32(outIdx, count);
  const sc = core.f32(outScores, count);
  return Array.from(idx, (i, t) => ({ itemId: items.id(i), score: sc[t] + constant }));
}

/** Where a model file keeps the indexes' arrays. */
const INDEX_PREFIX = 'ann';
const SIMILAR_PREFIX = 'annSimilar';

/** Item indices a list must leave out: the seen items (unless `excludeSeen` is false) and `exclude`. */
function excludedItems(items: IdMap, seen: Int32Array, options: RecommendOptions): Set<number> {
  const excluded = new Set<number>(options.excludeSeen === false ? [] : seen);
  for (const id of options.exclude ?? []) {
    const i = items.get(id);
    if (i >= 0) excluded.add(i);
  }
  return excluded;
}

/** Ids per step when an id map is built in steps (a few milliseconds' work). */
const IDS_PER_STEP = 25_000;

function* idMapInSteps(ids: readonly string[]): Generator<void, IdMap> {
  const map = new IdMap();
  for (let t = 0; t < ids.length; t++) {
    if (t > 0 && t % IDS_PER_STEP === 0) yield;
    map.add(ids[t]);
  }
  return map;
}

/** The id an erased user's row keeps: not a valid external id (ids are printable). */
export function tombstone(index: number): string {
  return `\u0000erased:${index}`;
}

function range(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < values.length; t++) {
    if (values[t] < lo) lo = values[t];
    if (values[t] > hi) hi = values[t];
  }
  return [lo, hi];
}

export function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`n must be a positive integer, got ${n}`, 'n');
}

function checkValue(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(`interaction value must be a finite number, got ${String(value)}`, 'value');
  }
  return value;
}

/** A factor model of any algorithm, for code that only uses the shared machinery. */
export type AnyFactorModel = FactorModel<Params & { factors: number }>;

/** Scales every k-long row of `rows` to unit length in place; zero rows stay zero. */
export function normalizeRows(rows: Float32Array, k: number): void {
  for (let start = 0; start < rows.length; start += k) {
    let norm = 0;
    for (let f = 0; f < k; f++) norm += rows[start + f] * rows[start + f];
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let f = 0; f < k; f++) rows[start + f] *= scale;
  }
}
