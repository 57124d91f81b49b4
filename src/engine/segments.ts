import { FactorModel } from '../model/factor-model.ts';
import type { Recommender } from '../model/types.ts';
import type { Catalog } from './catalog.ts';
import type { Segment } from './types.ts';

const LABEL_CATEGORIES = 2;

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
    if (!(model instanceof FactorModel) || clusters < 1 || model.userCount === 0) return null;
    const { users, labels, centroids, k } = model.clusterUsers(clusters, seed);
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
    const list = sizes.map((size, id) => ({ id, size, label: labelOf(weights[id]) }));
    return new Segments(centroids, k, list);
  }

  all(): Segment[] {
    return [...this.list].sort((a, b) => b.size - a.size || a.id - b.id);
  }

  /** The segment whose centroid is nearest `vector` (squared Euclidean). */
  assign(vector: Float32Array): Segment {
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

function labelOf(weights: Map<string, number>): string {
  const top = [...weights].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, LABEL_CATEGORIES);
  return top.length > 0 ? top.map(([category]) => category).join(' & ') : 'uncategorised';
}
