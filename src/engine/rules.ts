import type { Catalog } from './catalog.ts';
import type { ScoredItem } from './types.ts';

/**
 * Maximal marginal relevance over item categories: repeatedly take the candidate with the best
 * (1 − diversity) · relevance − diversity · (largest category overlap with what is already
 * taken). Relevance is the score rescaled to [0, 1] within the pool, overlap is Jaccard, so
 * diversity 0 keeps the ranking and 1 spreads categories as much as the pool allows.
 */
export function diversify(pool: ScoredItem[], n: number, diversity: number, catalog: Catalog): ScoredItem[] {
  if (diversity <= 0 || pool.length <= 1) return pool.slice(0, n);
  const hi = pool[0].score;
  const lo = pool[pool.length - 1].score;
  const relevance = (s: number) => (hi > lo ? (s - lo) / (hi - lo) : 1);
  const categories = pool.map((item) => new Set(catalog.categories(item.itemId)));
  const taken: number[] = [];
  const left = new Set(pool.keys());
  while (taken.length < n && left.size > 0) {
    let best = -1;
    let bestValue = -Infinity;
    for (const c of left) {
      let overlap = 0;
      for (const t of taken) overlap = Math.max(overlap, jaccard(categories[c], categories[t]));
      const value = (1 - diversity) * relevance(pool[c].score) - diversity * overlap;
      if (value > bestValue) [best, bestValue] = [c, value];
    }
    taken.push(best);
    left.delete(best);
  }
  return taken.map((c) => pool[c]);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  return both / (a.size + b.size - both);
}

/** How many candidates to rank before diversifying: more variety needs a deeper pool. */
export function poolSize(n: number, diversity: number): number {
  return diversity > 0 ? Math.min(n * 5, 500) : n;
}
