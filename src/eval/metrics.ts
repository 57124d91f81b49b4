/**
 * Accuracy metrics. Ranking metrics are computed exactly over the full catalog (no sampled
 * negatives), since sampled metrics can reorder models (Krichene & Rendle, KDD 2020).
 */
import { InvalidInputError } from '../errors.ts';

function checkPairs(name: string, actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
  if (actual.length !== predicted.length) {
    throw new InvalidInputError(`${name} needs as many predictions as actual values, got ${predicted.length} and ${actual.length}`);
  }
  if (actual.length === 0) throw new InvalidInputError(`${name} needs at least one value`);
}

/** Root mean squared error. */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('rmse', actual, predicted);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (actual[i] - predicted[i]) ** 2;
  return Math.sqrt(sum / actual.length);
}

/** Mean absolute error. */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('mae', actual, predicted);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i] - predicted[i]);
  return sum / actual.length;
}

export interface RankingOptions {
  /** Number of items that could have been recommended; the denominator of coverage. */
  catalogSize: number;
  /** Interaction counts per item (usually from train); enables novelty. */
  popularity?: Map<string, number>;
}

export interface RankingMetrics {
  precision: number;
  recall: number;
  f1: number;
  ndcg: number;
  map: number;
  hitRate: number;
  coverage: number;
  /** Mean popularity rank over recommendation slots (1 = most popular); NaN without `popularity`. */
  novelty: number;
  /** Users averaged over: those with ≥ 1 relevant item. When 0, the averages are NaN. */
  users: number;
}

/**
 * Popularity rank per item: 1 + the number of items strictly more popular, so tied items
 * share a rank and the result does not depend on Map order. Unlisted items count as 0.
 */
export function popularityRanks(popularity: Map<string, number>): (item: string) => number {
  const counts = [...popularity.values()].sort((a, b) => b - a);
  const rankOfCount = new Map<number, number>();
  counts.forEach((count, i) => {
    if (!rankOfCount.has(count)) rankOfCount.set(count, i + 1);
  });
  const unseenRank = 1 + counts.filter((count) => count > 0).length;
  return (item) => {
    const count = popularity.get(item) ?? 0;
    return count > 0 ? rankOfCount.get(count)! : unseenRank;
  };
}

/**
 * Top-k metrics averaged over users with ≥ 1 relevant item. A user in `relevant` without an
 * entry in `recs` scores zero rather than being skipped: a recommender that fails a user
 * must not look better for it (Microsoft Recommenders averages over users present in both).
 * Coverage and novelty describe what was shown, so they use the top k of every list in `recs`.
 */
export function rankingMetrics(
  recs: Map<string, string[]>,
  relevant: Map<string, Set<string>>,
  k: number,
  options: RankingOptions,
): RankingMetrics {
  if (!Number.isInteger(k) || k < 1) throw new InvalidInputError(`k must be a positive integer, got ${k}`);
  const { catalogSize, popularity } = options;
  if (!Number.isInteger(catalogSize) || catalogSize < 1) {
    throw new InvalidInputError(`catalogSize must be a positive integer, got ${catalogSize}`);
  }
  // Ideal DCG needs the discounts of ranks 1..k; cumulative sums avoid recomputing logs per user.
  const idealDcg = [0];
  for (let rank = 1; rank <= k; rank++) idealDcg.push(idealDcg[rank - 1] + 1 / Math.log2(rank + 1));

  let users = 0, precision = 0, recall = 0, ndcg = 0, map = 0, hitUsers = 0;
  for (const [user, rel] of relevant) {
    if (rel.size === 0) continue;
    users++;
    const top = (recs.get(user) ?? []).slice(0, k);
    let hits = 0, dcg = 0, precisionSum = 0;
    for (let i = 0; i < top.length; i++) {
      if (!rel.has(top[i])) continue;
      hits++;
      dcg += 1 / Math.log2(i + 2);
      precisionSum += hits / (i + 1); // precision@(i+1) at a relevant position
    }
    precision += hits / k;
    recall += hits / rel.size;
    ndcg += dcg / idealDcg[Math.min(rel.size, k)];
    // Divided by min(|rel|, k), the convention of implicit's ranking_metrics_at_k and of
    // today's Microsoft Recommenders map_at_k: a perfect list of k scores 1 even when the user
    // has more than k relevant items. (Dividing by |rel| gives lower numbers when |rel| > k.)
    map += precisionSum / Math.min(rel.size, k);
    if (hits > 0) hitUsers++;
  }

  const shown = new Set<string>();
  const rankOf = popularity && popularityRanks(popularity);
  let rankSum = 0, slots = 0;
  for (const [user, list] of recs) {
    const top = list.slice(0, k);
    if (new Set(top).size !== top.length) throw new InvalidInputError(`recommendations for user "${user}" repeat an item`);
    for (const item of top) {
      shown.add(item);
      if (rankOf) rankSum += rankOf(item);
    }
    slots += top.length;
  }

  const p = precision / users;
  const r = recall / users;
  return {
    precision: p,
    recall: r,
    f1: p + r === 0 ? 0 : (2 * p * r) / (p + r),
    ndcg: ndcg / users,
    map: map / users,
    hitRate: hitUsers / users,
    coverage: shown.size / catalogSize,
    novelty: rankOf && slots > 0 ? rankSum / slots : NaN,
    users,
  };
}
