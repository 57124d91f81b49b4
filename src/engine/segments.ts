import { normalizeRows } from '../model/factor-model.ts';
import type { Recommender } from '../model/types.ts';
import type { Catalog } from './catalog.ts';
import type { Segment } from './types.ts';

const LABEL_CATEGORIES = 2;
/** Categories a label may grow to when two segments would otherwise share one. */
const MAX_LABEL_CATEGORIES = 4;

/**
 * User segments: k-means over user vectors (run in the WebAssembly core) at each retrain. A
 * user's segment is the centroid nearest their *current* vector, so it moves with fold-in.
 */
export class Segments {
  private constructor(
    private readonly centroids: Float32Array,
    private readonly k: number,
    private readonly list: Segment[],
  ) {}

  /** Segments of a factor model's users; null for models without user vectors. */
  static compute(model: Recommender, catalog: Catalog, clusters: number, seed: number): Segments | null {
    if (!model.latent || clusters < 1 || model.userCount === 0) return null;
    const { users, labels, centroids, k } = model.latent.clusterUsers(clusters, seed);
    const count = centroids.length / k;
    const sizes = new Array<number>(count).fill(0);
    const weights = Array.from({ length: count }, () => new Map<string, number>());
    users.forEach((userId, t) => {
      const c = labels[t];
      sizes[c]++;
      for (const { itemId, value } of model.userHistory(userId)) {
        if (value <= 0) continue;
        for (const category of catalog.categories(itemId)) weights[c].set(category, (weights[c].get(category) ?? 0) + value);
      }
    });
    const names = labelSegments(weights);
    const list = sizes.map((size, id) => ({ id, size, label: names[id] }));
    return new Segments(centroids, k, list);
  }

  /** As plain data, to cross from the training thread (structured clone). */
  toData(): { centroids: Float32Array; k: number; list: Segment[] } {
    return { centroids: this.centroids, k: this.k, list: this.list };
  }

  static fromData({ centroids, k, list }: { centroids: Float32Array; k: number; list: Segment[] }): Segments {
    return new Segments(centroids, k, list);
  }

  all(): Segment[] {
    return [...this.list].sort((a, b) => b.size - a.size || a.id - b.id);
  }

  /** The segment whose centroid is nearest `vector` scaled to unit length, as the clustering saw users. */
  assign(raw: Float32Array): Segment {
    const vector = Float32Array.from(raw);
    normalizeRows(vector, this.k);
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < this.list.length; c++) {
      let d = 0;
      for (let f = 0; f < this.k; f++) {
        const diff = vector[f] - this.centroids[c * this.k + f];
        d += diff * diff;
      }
      if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    return this.list[best];
  }
}

/**
 * One label per segment: the categories that set it apart. Ranked by each category's term of the
 * KL divergence from the overall mix, share · ln(share / overall share), so a category must be both
 * common in the segment and more common there than everywhere (raw shares would label most
 * MovieLens segments "Drama & Comedy"). Where two labels still coincide, the lighter segment's label
 * (less total weight) grows by its next distinctive category, and as a last resort carries its id.
 */
export function labelSegments(weights: ReadonlyArray<ReadonlyMap<string, number>>): string[] {
  const overall = shares(sumOf(weights));
  const ranked = weights.map((w) => {
    const own = shares(w);
    const score = (c: string, s: number) => (s > overall.get(c)! ? s * Math.log(s / overall.get(c)!) : 0);
    return [...own]
      .map(([category, s]) => ({ category, distinct: score(category, s), share: s }))
      .sort((a, b) => b.distinct - a.distinct || b.share - a.share || (a.category < b.category ? -1 : 1))
      .map((c) => c.category);
  });
  const size = weights.map((w) => totalOf(w));
  // Heaviest segments keep the shortest labels; each later one lengthens until its label is new.
  const order = weights.map((_, id) => id).sort((a, b) => size[b] - size[a] || a - b);
  const taken = new Set<string>();
  const labels = new Array<string>(weights.length);
  for (const id of order) {
    const categories = ranked[id];
    let label = 'uncategorised';
    const longest = Math.min(MAX_LABEL_CATEGORIES, categories.length);
    for (let n = Math.min(LABEL_CATEGORIES, categories.length); n >= 1 && n <= longest; n++) {
      label = categories.slice(0, n).join(' & ');
      if (!taken.has(label)) break;
    }
    if (taken.has(label)) label = `${label} (${id})`;
    taken.add(label);
    labels[id] = label;
  }
  return labels;
}

function sumOf(maps: ReadonlyArray<ReadonlyMap<string, number>>): Map<string, number> {
  const total = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) total.set(k, (total.get(k) ?? 0) + v);
  return total;
}

function shares(weights: ReadonlyMap<string, number>): Map<string, number> {
  const total = totalOf(weights);
  return new Map([...weights].map(([k, v]) => [k, v / total]));
}

function totalOf(weights: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const v of weights.values()) total += v;
  return total;
}
