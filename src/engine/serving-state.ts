import type { Recommender } from '../model/types.ts';
import type { ModelMeta } from '../store/types.ts';
import type { Baseline } from './baseline.ts';
import type { CategoryMeans } from './cold-items.ts';
import type { Segments } from './segments.ts';

/** One trained model and what serving derived from it at training time. */
export interface ServingModel {
  model: Recommender;
  meta: ModelMeta;
  /** User vectors as the retrain left them, to measure drift against (factor models only). */
  baseline: Baseline | null;
  segments: Segments | null;
  /** Per-category mean vectors, to place items the catalog gains before the next retrain. */
  categories: CategoryMeans | null;
}

interface Slot {
  serving: ServingModel;
  leases: number;
  retired: boolean;
}

/**
 * The model requests are answered from. State owned: the current slot and the retired ones still
 * leased. A swap is a pointer swap; the model it replaces is disposed (its core goes back to the
 * bank for the next retrain) only once the last lease on it ends, so no request can lose its model
 * mid-way, however its work is sliced.
 */
export class ServingState {
  private slot: Slot | null = null;

  /** The current model for work that finishes within this turn of the event loop. */
  get current(): ServingModel | null {
    return this.slot?.serving ?? null;
  }

  get model(): Recommender | null {
    return this.slot?.serving.model ?? null;
  }

  /** Runs `fn` on the current model with a lease held until it settles (for work that awaits). */
  async withLease<T>(fn: (serving: ServingModel | null) => Promise<T> | T): Promise<T> {
    const slot = this.slot;
    if (slot) slot.leases++;
    try {
      return await fn(slot?.serving ?? null);
    } finally {
      if (slot) {
        slot.leases--;
        this.disposeIfDone(slot);
      }
    }
  }

  /** Serves `next` from now on; the previous model is disposed once nothing leases it. */
  swap(next: ServingModel): void {
    const previous = this.slot;
    this.slot = { serving: next, leases: 0, retired: false };
    if (previous) {
      previous.retired = true;
      this.disposeIfDone(previous);
    }
  }

  private disposeIfDone(slot: Slot): void {
    if (slot.retired && slot.leases === 0) slot.serving.model.dispose();
  }
}
