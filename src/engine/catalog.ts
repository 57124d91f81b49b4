import type { ItemRecord } from '../store/types.ts';

interface Entry {
  categories: string[];
  available: boolean;
}

/**
 * The engine's in-memory view of the item catalog: what a candidate filter needs (category,
 * availability) without a database query per scored item.
 */
export class Catalog {
  private readonly items = new Map<string, Entry>();
  private unavailable = 0;
  /** Open recordings of the ids set since they began (see `record`). */
  private readonly recordings = new Set<Set<string>>();
  private changes = 0;

  constructor(records: Iterable<ItemRecord> = []) {
    for (const r of records) this.set(r.itemId, r.categories, r.available);
  }

  get size(): number {
    return this.items.size;
  }

  /** Grows with every `set`: what was derived from the catalog at an older revision may not hold (cached lists). */
  get revision(): number {
    return this.changes;
  }

  has(itemId: string): boolean {
    return this.items.has(itemId);
  }

  set(itemId: string, categories: string[], available: boolean): void {
    const prev = this.items.get(itemId);
    if (prev && !prev.available) this.unavailable--;
    if (!available) this.unavailable++;
    this.items.set(itemId, { categories, available });
    this.changes++;
    for (const ids of this.recordings) ids.add(itemId);
  }

  /**
   * Records the ids set from now until `stop()`: what changed while a retrain read the catalog
   * on its own thread, so the swap looks at those items only, not the whole catalog.
   */
  record(): { ids: Set<string>; stop(): void } {
    const ids = new Set<string>();
    this.recordings.add(ids);
    return { ids, stop: () => void this.recordings.delete(ids) };
  }

  /** Whether the item is in the catalog and retired (items only a model knows are not). */
  isRetired(itemId: string): boolean {
    return this.items.get(itemId)?.available === false;
  }

  /** Items retired from the catalog. */
  *retired(): Iterable<string> {
    for (const [itemId, entry] of this.items) if (!entry.available) yield itemId;
  }

  categories(itemId: string): string[] {
    return this.items.get(itemId)?.categories ?? [];
  }

  /**
   * A predicate for the candidates a request allows, or undefined when every item is allowed
   * (the common case, which lets the model skip per-item checks).
   */
  filter(categories?: string[], excludeCategories?: string[]): ((itemId: string) => boolean) | undefined {
    const wanted = categories && categories.length > 0 ? new Set(categories) : null;
    const unwanted = excludeCategories && excludeCategories.length > 0 ? new Set(excludeCategories) : null;
    if (!wanted && !unwanted && this.unavailable === 0) return undefined;
    return (itemId) => {
      const entry = this.items.get(itemId);
      if (!entry) return !wanted; // items only the model knows: allowed unless filtering by category
      if (!entry.available) return false;
      if (unwanted && entry.categories.some((c) => unwanted.has(c))) return false;
      return !wanted || entry.categories.some((c) => wanted.has(c));
    };
  }

  /** Available items with categories that `model` has no vector for (cold items), of all or of `among`. */
  unknownTo(model: { hasItem(itemId: string): boolean }, among: Iterable<string> = this.items.keys()): string[] {
    const out: string[] = [];
    for (const itemId of among) {
      const entry = this.items.get(itemId);
      if (entry?.available && entry.categories.length > 0 && !model.hasItem(itemId)) out.push(itemId);
    }
    return out;
  }

  /** Available items with their categories. */
  *available(): Iterable<[itemId: string, categories: string[]]> {
    for (const [itemId, entry] of this.items) if (entry.available) yield [itemId, entry.categories];
  }
}
