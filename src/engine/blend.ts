import type { Scored } from '../model/types.ts';
import type { Catalog } from './catalog.ts';
import type { CategoryReason, ScoredItem } from './types.ts';

/** The profile-aware blend's setting: history length (distinct items) from which the model ranks alone. */
export interface BlendSettings {
  historyItems: number;
}

/** Candidates taken from each side: the model's best and the most popular items in the user's categories. */
export const BLEND_CANDIDATES = 100;

/**
 * Popular items scanned for ones in the user's categories: bounded so a user whose only
 * category is rare does not walk a million-item catalog on the serving thread.
 */
export const BLEND_SCAN = 50_000;

/**
 * The model's share of a blended score for a user with `items` distinct items: rising
 * linearly from 0 to 1 at `historyItems`, where the blend stops. A few events are weak
 * collaborative evidence but clear evidence of taste (eight horror films), so short histories
 * lean on the categories the profile already shows; long ones on the model alone.
 */
export function modelShare(items: number, settings: BlendSettings | false): number {
  if (!settings || settings.historyItems <= 0) return 1;
  return Math.min(1, items / settings.historyItems);
}

export interface BlendInput {
  /** The model's candidates, best first. */
  model: Scored[];
  /** The most popular allowed, unseen items in the user's categories, most popular first. */
  popular: Array<{ itemId: string; score: number }>;
  /** The user's decayed interest per category, summing to 1 (the profile's `topCategories`). */
  interests: Map<string, number>;
  /** The model's share (see `modelShare`); the categories get the rest. */
  share: number;
}

export interface Blended extends ScoredItem {
  /** Each of the user's categories the item is in, with its share of the score, largest first. */
  categories: CategoryReason[];
}

/**
 * One ranking from the model's candidates and the popular items in the user's categories:
 *   score = rank(item) · (share + (1 − share) · affinity(item))
 * `rank` runs from 1 for a side's first candidate down to 1/n for its last — ranks, because the
 * model's scores and popularity share no scale — and a popular candidate's rank counts
 * (1 − share) as much as the model's. `affinity` is the user's interest in the item's
 * categories relative to their leading one (capped at 1). So a short history's list keeps the
 * model's order within the user's categories and pushes down what lies outside them, rather
 * than replacing the model's picks by bestsellers (which lowered short-history hit-rate in
 * replay); with share 1 it is the model's list.
 */
export function blend(input: BlendInput, catalog: Catalog): Blended[] {
  const { model, popular, interests, share } = input;
  let leading = 0;
  for (const interest of interests.values()) leading = Math.max(leading, interest);
  const rank = new Map<string, number>();
  model.forEach((s, r) => rank.set(s.itemId, 1 - r / model.length));
  popular.forEach((p, r) => rank.set(p.itemId, Math.max(rank.get(p.itemId) ?? 0, (1 - share) * (1 - r / popular.length))));

  const out: Blended[] = [];
  for (const [itemId, r] of rank) {
    const shared = catalog.categories(itemId).filter((c) => interests.has(c));
    const interest = shared.reduce((sum, c) => sum + interests.get(c)!, 0);
    const affinity = leading > 0 ? Math.min(1, interest / leading) : 0;
    const multiplier = share + (1 - share) * affinity;
    // The categories' part of the multiplier, split between them by the user's interest.
    const fromCategories = multiplier > 0 ? ((1 - share) * affinity) / multiplier : 0;
    const categories = shared
      .map((category) => ({ category, weight: (fromCategories * interests.get(category)!) / interest }))
      .filter((c) => c.weight > 0)
      .sort((a, b) => b.weight - a.weight || (a.category < b.category ? -1 : 1));
    out.push({ itemId, score: r * multiplier, categories });
  }
  return out.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}
