import type { Core } from '../wasm/core.ts';
import { IdMap } from '../data/id-map.ts';

/**
 * One side of a factor model (users or items): ids, a factor matrix and optional biases in
 * WebAssembly memory, with spare capacity so fold-in can add rows without retraining.
 */
export class Side {
  ids: IdMap;
  factors = 0;
  bias = 0;
  capacity = 0;

  constructor(
    private readonly core: Core,
    readonly k: number,
    readonly withBias: boolean,
    ids = new IdMap(),
  ) {
    this.ids = ids;
    this.reserve(Math.max(ids.size, 1));
  }

  get size(): number {
    return this.ids.size;
  }

  /** Address of row `index`'s factor vector. */
  row(index: number): number {
    return this.factors + index * this.k * 4;
  }

  biasAt(index: number): number {
    return this.withBias ? this.core.f32(this.bias, this.capacity)[index] : 0;
  }

  /** Makes room for at least `rows` rows, keeping existing values; new rows are zero. */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, Math.ceil(this.capacity * 1.5), 16);
    const factors = this.core.allocF32(capacity * this.k);
    const matrix = this.core.f32(factors, capacity * this.k);
    // Fresh memory may hold released scratch bytes, so clear it explicitly.
    matrix.fill(0);
    if (this.factors) matrix.set(this.core.f32(this.factors, this.capacity * this.k));
    if (this.withBias) {
      const bias = this.core.allocF32(capacity);
      const biases = this.core.f32(bias, capacity);
      biases.fill(0);
      if (this.bias) biases.set(this.core.f32(this.bias, this.capacity));
      this.bias = bias;
    }
    this.factors = factors;
    this.capacity = capacity;
  }

  /** The index of `id`, adding a zero row when new. */
  add(id: string): number {
    const index = this.ids.add(id);
    this.reserve(index + 1);
    return index;
  }

  /** Copies of the live rows, for saving. */
  snapshot(): { factors: Float32Array; bias: Float32Array | null } {
    return {
      factors: this.core.f32(this.factors, this.size * this.k).slice(),
      bias: this.withBias ? this.core.f32(this.bias, this.size).slice() : null,
    };
  }

  restore(factors: Float32Array, bias: Float32Array | null): void {
    this.core.f32(this.factors, factors.length).set(factors);
    if (this.withBias && bias) this.core.f32(this.bias, bias.length).set(bias);
  }

  /** False when any live value is NaN or infinite (a diverged fit). */
  isFinite(): boolean {
    const m = this.core.f32(this.factors, this.size * this.k);
    for (let t = 0; t < m.length; t++) if (!Number.isFinite(m[t])) return false;
    if (this.withBias) {
      const b = this.core.f32(this.bias, this.size);
      for (let t = 0; t < b.length; t++) if (!Number.isFinite(b[t])) return false;
    }
    return true;
  }
}
