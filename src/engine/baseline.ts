import type { LatentFactors } from '../model/types.ts';

/**
 * User vectors as the last retrain left them, the reference drift is measured against. One block
 * copy of the user factors, taken at the swap (a few milliseconds for 100,000 users): keeping the
 * whole fresh model for this would double the item factors and histories held in memory.
 */
export class Baseline {
  private readonly forgotten = new Set<number>();

  private constructor(
    private readonly vectors: Float32Array,
    private readonly k: number,
    private readonly rowOf: (userId: string) => number,
  ) {}

  /** Taken from a freshly trained or loaded model, before anything is folded into it. */
  static of(model: LatentFactors): Baseline {
    const { vectors, rowOf } = model.userSnapshot();
    return new Baseline(vectors, model.factors, rowOf);
  }

  /** The user's vector at the last retrain; null when they had no vector then (or were erased). */
  vector(userId: string): Float32Array | null {
    const t = this.row(userId);
    return t < 0 ? null : this.vectors.subarray(t * this.k, (t + 1) * this.k);
  }

  /** Erasure: the user's vector is zeroed and no longer found. */
  forget(userId: string): void {
    const t = this.row(userId);
    if (t < 0) return;
    this.vectors.fill(0, t * this.k, (t + 1) * this.k);
    this.forgotten.add(t);
  }

  private row(userId: string): number {
    const t = this.rowOf(userId);
    return t >= 0 && (t + 1) * this.k <= this.vectors.length && !this.forgotten.has(t) ? t : -1;
  }
}
