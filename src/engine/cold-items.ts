import type { LatentFactors, Recommender } from '../model/types.ts';
import { isExplicit } from '../model/index.ts';
import type { FeedbackRecord } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import { userSignals } from './signals.ts';

/**
 * Starting vectors for items no model has seen: the mean vector of trained items sharing the new
 * item's categories. It makes a new item recommendable to the right people before any feedback;
 * feedback then refines it through foldInItem.
 *
 * Per-category sums are taken once per model (one pass over its trained items), so placing an
 * item costs O(k · its categories) — a catalog of 100,000 cold items is placed in one pass, not
 * 100,000 scans. An item in several categories weighs in each of them: the vector is the
 * count-weighted mean of its categories' means.
 */
export class CategoryMeans {
  private constructor(
    private readonly sums: Map<string, { sum: Float32Array; count: number }>,
    private readonly k: number,
  ) {}

  /** Sums over the model's trained, available items (trained ones only: placed vectors are guesses). */
  static of(model: LatentFactors, catalog: Catalog): CategoryMeans {
    const sums = new Map<string, { sum: Float32Array; count: number }>();
    for (const [itemId, categories] of catalog.available()) {
      if (categories.length === 0 || !model.itemTrained(itemId)) continue;
      const v = model.itemVector(itemId);
      for (const category of categories) {
        let entry = sums.get(category);
        if (!entry) sums.set(category, (entry = { sum: new Float32Array(model.factors), count: 0 }));
        for (let f = 0; f < v.length; f++) entry.sum[f] += v[f];
        entry.count++;
      }
    }
    return new CategoryMeans(sums, model.factors);
  }

  /** The starting vector for an item in `categories`; null when no trained item shares one. */
  vectorFor(categories: string[]): Float32Array | null {
    const out = new Float32Array(this.k);
    let count = 0;
    for (const category of categories) {
      const entry = this.sums.get(category);
      if (!entry) continue;
      for (let f = 0; f < this.k; f++) out[f] += entry.sum[f];
      count += entry.count;
    }
    if (count === 0) return null;
    for (let f = 0; f < this.k; f++) out[f] /= count;
    return out;
  }

  /**
   * Gives every available, categorised item the model lacks its starting vector (only those of
   * `among` when given); returns how many were placed.
   */
  placeAll(model: Recommender, catalog: Catalog, among?: Iterable<string>): number {
    let placed = 0;
    for (const itemId of among ? catalog.unknownTo(model, among) : catalog.unknownTo(model)) {
      if (this.place(model, itemId, catalog.categories(itemId))) placed++;
    }
    return placed;
  }

  /** Places one item unless the model knows it; true when a vector was set. */
  place(model: Recommender, itemId: string, categories: string[]): boolean {
    if (!model.latent || model.hasItem(itemId)) return false;
    const vector = this.vectorFor(categories);
    if (vector) model.latent.setItemVector(itemId, vector);
    return vector !== null;
  }

  /** The sums as plain data, to cross from the training thread (structured clone). */
  toData(): { sums: Map<string, { sum: Float32Array; count: number }>; k: number } {
    return { sums: this.sums, k: this.k };
  }

  static fromData(data: { sums: Map<string, { sum: Float32Array; count: number }>; k: number }): CategoryMeans {
    return new CategoryMeans(data.sums, data.k);
  }
}

/**
 * Re-solves an untrained item's vector from everyone's feedback on it, with user vectors held
 * fixed. Each user's events on the item become one signal, exactly as in training.
 */
export function foldInItemFromFeedback(
  model: Recommender & { latent: LatentFactors }, events: FeedbackRecord[], config: EngineConfig, keepUser: (userId: string) => boolean,
): void {
  const byUser = new Map<string, FeedbackRecord[]>();
  for (const e of events) {
    if (!keepUser(e.userId) || !model.hasUser(e.userId)) continue;
    const list = byUser.get(e.userId) ?? [];
    list.push(e);
    byUser.set(e.userId, list);
  }
  const explicit = isExplicit(model.algorithm);
  const interactions: Array<{ userId: string; value: number }> = [];
  for (const [userId, list] of byUser) {
    for (const s of userSignals(list, config, explicit)) interactions.push({ userId, value: s.value });
  }
  if (interactions.length > 0) model.latent.foldInItem(events[0].itemId, interactions);
}
