import type { LatentFactors } from '../model/types.ts';

/**
 * User vectors as the last retrain left them, the reference drift is measured against. A copy of
 * the vectors only: keeping the whole fresh model for this would double the item factors and
 * histories held in memory.
 */
export class Baseline {
  private constructor(
    private readonly index: Map<string, number>,
    private readonly vectors: Float32Array,
    private readonly k: number,
  ) {}

  /** Taken from a freshly trained or loaded model, before anything is folded into it. */
  static of(model: LatentFactors): Baseline {
    const { users, vectors } = model.userVectors();
    return new Baseline(new Map(users.map((userId, t) => [userId, t])), vectors, model.factors);
  }

  /** The user's vector at the last retrain; null when they had no profile then. */
  vector(userId: string): Float32Array | null {
    const t = this.index.get(userId);
    return t === undefined ? null : this.vectors.subarray(t * this.k, (t + 1) * this.k);
  }

  /** Erasure: the user's vector is zeroed and their id dropped. */
  forget(userId: string): void {
    const t = this.index.get(userId);
    if (t === undefined) return;
    this.vectors.fill(0, t * this.k, (t + 1) * this.k);
    this.index.delete(userId);
  }
}
