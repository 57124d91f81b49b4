import { IdMap } from '../data/id-map.ts';
import type { Interactions } from '../data/interactions.ts';
import { UnknownIdError } from '../errors.ts';
import { HistoryModel } from './history-model.ts';
import { encodeModel, type ModelState } from './format.ts';
import { DEFAULT_N, checkN, selectRanked, tombstone } from './factor-model.ts';
import { History, toRow } from './history.ts';
import { parseParams, seed } from './params.ts';
import { z } from 'zod';
import type { Explanation, FitOptions, ModelOptions, Recommender, RecommendOptions, Scored, ScoredUser, UserInteraction } from './types.ts';

const schema = z.object({ seed: seed() }).strict();
export type PopularParams = z.output<typeof schema>;

/**
 * The baseline every recommender must beat: items ranked by how many users interacted with
 * them. Also the cold-start answer for users the other models do not know.
 */
export class Popular extends HistoryModel implements Recommender {
  readonly algorithm = 'popular' as const;
  readonly params: Readonly<PopularParams>;
  private counts = new Float32Array(0);

  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    super(options);
    this.params = parseParams(schema, params);
  }

  /** One step: progress goes from 0 to 1 of 1. */
  async fitAsync(data: Interactions, options: FitOptions = {}): Promise<this> {
    return this.fit(data, options);
  }

  fit(data: Interactions, options: FitOptions = {}): this {
    this.assertLive();
    options.onProgress?.({ done: 0, total: 1 });
    this.users = IdMap.from(data.users.toArray());
    this.items = IdMap.from(data.items.toArray());
    this.counts = new Float32Array(this.items.size);
    for (let t = 0; t < data.size; t++) this.counts[data.itemIdx[t]] += 1;
    this.history = new History(data.byUser());
    this.fitted = true;
    options.onProgress?.({ done: 1, total: 1 });
    return this;
  }

  recommend(userId: string, options: RecommendOptions = {}): Scored[] {
    return this.rank(this.history.row(this.userIndex(userId)).indices, options);
  }

  recommendFor(history: UserInteraction[], options: RecommendOptions = {}): Scored[] {
    this.assertReady();
    return this.rank(toRow(history.map((x) => [this.items.get(x.itemId), x.value]), 'sum').indices, options);
  }

  predict(userId: string, itemId: string): number {
    this.userIndex(userId);
    const i = this.items.get(itemId);
    if (i < 0) throw new UnknownIdError('item', itemId);
    return this.counts[i];
  }

  /** Popularity has no notion of likeness: the most popular other items. */
  similarItems(itemId: string, n = DEFAULT_N): Scored[] {
    this.assertReady();
    const i = this.items.get(itemId);
    if (i < 0) throw new UnknownIdError('item', itemId);
    return this.rank(Int32Array.of(i), { n });
  }

  similarUsers(userId: string, _n = DEFAULT_N): ScoredUser[] {
    this.userIndex(userId);
    return [];
  }

  foldInUser(userId: string, history: UserInteraction[]): Float32Array {
    this.assertReady();
    const u = this.users.add(userId);
    this.history.set(u, toRow(history.map((x) => [this.items.get(x.itemId), x.value]), 'sum'));
    return new Float32Array(0);
  }

  forgetUser(userId: string): void {
    const u = this.userIndex(userId);
    this.history.set(u, toRow([], 'sum'));
    this.users.rename(u, tombstone(u));
  }

  explain(userId: string, itemId: string): Explanation {
    return { score: this.predict(userId, itemId), contributions: [] };
  }

  save(): Uint8Array {
    this.assertReady();
    const seen = this.history.toCsr(this.users.size);
    return encodeModel({
      algorithm: this.algorithm,
      params: { ...this.params },
      users: this.users.toArray(),
      items: this.items.toArray(),
      scalars: {},
      arrays: { counts: this.counts, seenIndptr: seen.indptr, seenIndices: seen.indices, seenValues: seen.values },
    });
  }

  restore(state: ModelState): this {
    this.assertLive();
    this.users = IdMap.from(state.users);
    this.items = IdMap.from(state.items);
    this.counts = new Float32Array(state.arrays.counts);
    const { seenIndptr, seenIndices, seenValues } = state.arrays;
    // Copies: the decoded arrays may be views into the caller's bytes.
    this.history = new History({ rows: state.users.length, indptr: (seenIndptr as Int32Array).slice(), indices: (seenIndices as Int32Array).slice(), values: (seenValues as Float32Array).slice() });
    this.fitted = true;
    return this;
  }

  private rank(seen: Int32Array, options: RecommendOptions): Scored[] {
    const n = options.n ?? DEFAULT_N;
    checkN(n);
    const mark = this.core.mark();
    try {
      const scores = this.core.putF32(this.counts);
      return selectRanked(this.core, this.items, scores, this.items.size, seen, 0, n, options);
    } finally {
      this.core.release(mark);
    }
  }

}
