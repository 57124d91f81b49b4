import type { Recommender, RecommendOptions } from '../model/types.ts';
import type { Catalog } from './catalog.ts';
import { poolSize } from './rules.ts';
import type { CategoryReason, RecommendRequest, ScoredItem } from './types.ts';

/** A ranked candidate; a short history's blend adds the categories behind it. */
export type Ranked = ScoredItem & { categories?: CategoryReason[] };
/** How a user's candidates are ranked: by the model, or for a short history by the blend (serving.ts). */
export type Ranker = (options: RecommendOptions & { n: number }) => Ranked[];

interface Entry {
  /** The user's unseen, available items, best first: the longest list asked for so far. */
  items: Ranked[];
  /** The model ran out of candidates: no item missing from `items` could pass any filter. */
  complete: boolean;
}

/** Answers from cached lists and rankings, since the engine opened. */
export interface ListCacheCounts {
  hits: number;
  misses: number;
  /** Items held over all cached lists now. */
  items: number;
}

/**
 * Each user's ranked list kept for repeat reads, so a read that nothing changed since does not
 * score the catalog again. What is kept is the pool before per-request rules: the user's unseen,
 * available items, best first. A request's exclusions and category filters are applied to it
 * (top-N selection breaks ties by item index, so filtering a ranked list gives what ranking
 * with the filter gives); when too few pass, the list is ranked again deeper — or, for a
 * category filter, ranked with the filter and not kept, since one selective filter must not
 * make every user's list long.
 *
 * Invalidation: the owner calls `forget` whenever a user's vector changes and `clear` whenever
 * item vectors change outside a catalog change; a model swap and a catalog change (either
 * clears everything, since each moves every user's list) are seen here at the next read. State
 * owned: the lists (least recently used dropped past `maxItems` items in total) and the counts.
 */
export class ListCache {
  private readonly lists = new Map<string, Entry>();
  private model: Recommender | null = null;
  private catalogRevision = -1;
  private items = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly catalog: Catalog,
    /** 0 turns the cache off: every read ranks. */
    private readonly maxItems: number,
  ) {}

  get counts(): ListCacheCounts {
    return { hits: this.hits, misses: this.misses, items: this.items };
  }

  /**
   * The candidates `request` needs for the user (poolSize of them, best first, seen items,
   * `exclude` and the category filters applied), from the cached list when it holds them.
   * Call it in the same turn as the model's ranking would run: the list is stored as of now.
   * `model` is the one serving (another one drops every list); `rank` ranks for the user.
   */
  pool(model: Recommender, userId: string, request: RecommendRequest, rank: Ranker): Ranked[] {
    const size = poolSize(request.n, request.diversity ?? 0);
    const exclude = new Set(request.exclude);
    const filter = this.catalog.filter(request.categories, request.excludeCategories);
    if (this.maxItems === 0) return rank({ n: size, exclude, filter });
    this.follow(model);
    const cached = this.lists.get(userId);
    if (cached) {
      const picked = pick(cached.items, size, exclude, filter);
      if (picked.length === size || cached.complete) {
        this.hits++;
        this.touch(userId, cached);
        return picked;
      }
    }
    this.misses++;
    const filtered = request.categories?.length || request.excludeCategories?.length;
    if (filtered) return rank({ n: size, exclude, filter });
    // Deep enough that the exclusions cannot leave it short.
    const depth = Math.max(size + exclude.size, cached?.items.length ?? 0);
    const items = rank({ n: depth, filter });
    this.store(userId, { items, complete: items.length < depth });
    return pick(items, size, exclude, undefined);
  }

  /** The user's vector (or the items they have seen) changed: their list goes. */
  forget(userId: string): void {
    const entry = this.lists.get(userId);
    if (!entry) return;
    this.items -= entry.items.length;
    this.lists.delete(userId);
  }

  /** Item vectors changed (a fold-in of a new item, an erasure's re-solve): every list may have. */
  clear(): void {
    this.lists.clear();
    this.items = 0;
  }

  /** A different model or catalog than the lists were ranked on: none of them holds. */
  private follow(model: Recommender): void {
    if (model === this.model && this.catalog.revision === this.catalogRevision) return;
    this.clear();
    this.model = model;
    this.catalogRevision = this.catalog.revision;
  }

  private store(userId: string, entry: Entry): void {
    this.forget(userId);
    if (entry.items.length > this.maxItems) return;
    this.lists.set(userId, entry);
    this.items += entry.items.length;
    for (const [oldest] of this.lists) {
      if (this.items <= this.maxItems) break;
      this.forget(oldest);
    }
  }

  /** Marks the user's list most recently used (a Map keeps insertion order). */
  private touch(userId: string, entry: Entry): void {
    this.lists.delete(userId);
    this.lists.set(userId, entry);
  }
}

/**
 * Copies of the first `size` items of `items` that are neither excluded nor filtered out: the
 * caller owns what it gets (a later step or a client may change a score in place), the cache
 * keeps its own.
 */
function pick(items: Ranked[], size: number, exclude: Set<string>, filter: ((itemId: string) => boolean) | undefined): Ranked[] {
  const out: Ranked[] = [];
  for (const { itemId, score, categories } of items) {
    if (out.length === size) break;
    if (!exclude.has(itemId) && (!filter || filter(itemId))) out.push(categories ? { itemId, score, categories } : { itemId, score });
  }
  return out;
}
