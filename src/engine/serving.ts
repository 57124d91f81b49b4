import { isExplicit } from '../model/index.ts';
import type { Recommender, RecommendOptions, Scored } from '../model/types.ts';
import { NotFoundError } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import { BLEND_CANDIDATES, BLEND_SCAN, blend, modelShare, type Blended } from './blend.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import type { Event } from './history-cache.ts';
import type { Ranker } from './list-cache.ts';
import type { LivingProfiles } from './living.ts';
import type { Popularity } from './popularity.ts';
import { categoryWeights } from './profile.ts';
import { diversify, poolSize } from './rules.ts';
import type { ServingState } from './serving-state.ts';
import type { CategoryReason, RecommendRequest, RecommendResult, ScoredItem } from './types.ts';

const DAY_MS = 86_400_000;

type RankOptions = RecommendOptions & { n: number };

/**
 * Whether a blended list may come from the cache: its ranks are taken over a fixed candidate set
 * (BLEND_CANDIDATES from each side) before exclusions, so any prefix of it filtered by
 * exclusions answers as a fresh blend does — as long as the request needs no deeper list and no
 * category filter (which blends other candidates).
 */
function blendCacheable(request: RecommendRequest): boolean {
  const filtered = (request.categories?.length ?? 0) > 0 || (request.excludeCategories?.length ?? 0) > 0;
  return !filtered && poolSize(request.n, request.diversity ?? 0) + (request.exclude?.length ?? 0) <= BLEND_CANDIDATES;
}
const EXPLAIN_ITEMS = 3;

/**
 * The read verbs: recommendations for users and anonymous sessions, similar items and users,
 * popularity. Owns no state: it reads the serving model (folding a stale user in first) or the
 * user's cached list (LivingProfiles.lists), the catalog's filters and the popularity ranking for
 * cold start. Every id here is already the stored one (pseudonymised at the engine's edge);
 * `rawUserId` is echoed back as the client sent it.
 */
export class Serving {
  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly state: ServingState,
    private readonly profiles: LivingProfiles,
    private readonly catalog: Catalog,
    private readonly popularity: Popularity,
    private readonly clock: () => number,
  ) {}

  get modelVersion(): number | null {
    return this.state.current?.meta.version ?? null;
  }

  async recommend(userId: string, rawUserId: string, request: RecommendRequest): Promise<RecommendResult> {
    await this.profiles.refresh(userId, false);
    const personal = () => this.state.model?.hasProfile(userId) === true && !this.profiles.isFlagged(userId);
    const blending = () => personal() && this.modelShare(userId) < 1;
    // The history is read only when the answer needs it (re-show rules, a short history's blend,
    // or excluding what a cold user saw).
    const history = request.reshowAfterDays !== undefined || !personal() || blending() ? await this.historyIfKnown(userId) : [];
    // After the last await: the list is ranked in one turn, on the model serving now.
    const model = this.state.model;
    let recommendations: ScoredItem[];
    if (model && personal()) {
      const share = this.modelShare(userId);
      const rank = this.ranker(model, userId, history, share);
      // Re-showing seen items ranks another pool; the common read comes from the user's cached list.
      const pool =
        request.reshowAfterDays !== undefined ? this.reshowPool(rank, request, history)
        : share === 1 || blendCacheable(request) ? this.profiles.lists.pool(model, userId, request, rank)
        : rank({ n: poolSize(request.n, request.diversity ?? 0), exclude: request.exclude, filter: this.catalog.filter(request.categories, request.excludeCategories) });
      recommendations = diversify(pool, request.n, request.diversity ?? 0, this.catalog);
      if (request.explain) recommendations = recommendations.map((r) => ({ itemId: r.itemId, score: r.score, because: this.because(model, userId, r) }));
      else if (share < 1) recommendations = recommendations.map((r) => ({ itemId: r.itemId, score: r.score }));
    } else {
      recommendations = this.coldStart(seenIn(history, request.exclude), request);
      if (request.explain) recommendations = recommendations.map((r) => ({ ...r, because: [] }));
    }
    return { userId: rawUserId, modelVersion: this.modelVersion, recommendations };
  }

  /** After a committed post: the user's list, or popularity if ranking fails (the post must still succeed). */
  async recommendAfterPost(userId: string, rawUserId: string, n: number, onError: (error: Error) => void): Promise<RecommendResult> {
    try {
      return await this.recommend(userId, rawUserId, { n });
    } catch (error) {
      onError(error as Error);
      return { userId: rawUserId, modelVersion: this.modelVersion, recommendations: this.coldStart(new Set(), { n }) };
    }
  }

  recommendSession(itemIds: string[], request: RecommendRequest): { modelVersion: number | null; recommendations: ScoredItem[] } {
    const model = this.state.model;
    const known = model ? itemIds.filter((id) => model.hasItem(id)) : [];
    // A visited item is a positive signal: the top rating for explicit models, a click otherwise.
    const value = model && isExplicit(model.algorithm) ? 5 : this.config.signals.click.weight;
    const exclude = [...itemIds, ...(request.exclude ?? [])];
    const recommendations =
      model && known.length > 0
        ? diversify(
            model.recommendFor(known.map((itemId) => ({ itemId, value })), {
              n: poolSize(request.n, request.diversity ?? 0),
              exclude,
              filter: this.catalog.filter(request.categories, request.excludeCategories),
            }),
            request.n, request.diversity ?? 0, this.catalog,
          )
        : this.coldStart(new Set(exclude), request);
    return { modelVersion: this.modelVersion, recommendations };
  }

  similarItems(itemId: string, n: number): ScoredItem[] {
    const model = this.state.model;
    if (!model?.hasItem(itemId)) {
      if (!this.catalog.has(itemId)) throw new NotFoundError('itemId', itemId);
      return [];
    }
    const allowed = this.catalog.filter() ?? (() => true);
    // Over-fetch so that unavailable neighbours can be dropped without coming up short.
    return model.similarItems(itemId, Math.min(n * 3 + 10, model.itemCount)).filter((s) => allowed(s.itemId)).slice(0, n);
  }

  async similarUsers(userId: string, n: number): Promise<Array<{ userId: string; score: number }>> {
    if (!(await this.store.getUser(userId))) throw new NotFoundError('userId', userId);
    await this.profiles.refresh(userId, false);
    const model = this.state.model;
    return model?.hasProfile(userId) ? model.similarUsers(userId, n) : [];
  }

  popular(request: RecommendRequest): ScoredItem[] {
    return this.coldStart(new Set(request.exclude), request);
  }

  private coldStart(exclude: Set<string>, request: RecommendRequest): ScoredItem[] {
    const allowed = this.catalog.filter(request.categories, request.excludeCategories);
    const pool = this.popularity.top(poolSize(request.n, request.diversity ?? 0), (id) => !exclude.has(id) && (!allowed || allowed(id)));
    return diversify(pool, request.n, request.diversity ?? 0, this.catalog);
  }

  /** The model's share of the user's list: below 1 while the history is short and the blend is on. */
  private modelShare(userId: string): number {
    if (!this.config.blend) return 1;
    return modelShare(this.state.model?.historyLength(userId) ?? 0, this.config.blend);
  }

  /** How the user's candidates are ranked: by the model, or for a short history by the blend. */
  private ranker(model: Recommender, userId: string, history: Event[], share: number): Ranker {
    if (share >= 1 || history.length === 0) return (options) => model.recommend(userId, options);
    return (options) => this.blended(model, userId, history, share, options);
  }

  /**
   * A short history's list: the model's candidates blended with the most popular items in the
   * user's categories (blend.ts). Ranks are taken before the request's exclusions, so a blended
   * list cached and filtered later answers as this does. Users whose items carry no categories
   * get the model's list.
   */
  private blended(model: Recommender, userId: string, history: Event[], share: number, options: RankOptions): Blended[] {
    const exclude = new Set(options.exclude);
    const excludeSeen = options.excludeSeen !== false;
    const { filter } = options;
    const fromModel = model.recommend(userId, { n: Math.max(options.n + exclude.size, BLEND_CANDIDATES), excludeSeen, filter });
    const interests = categoryWeights(history, this.catalog, this.config);
    const kept = (s: Scored) => !exclude.has(s.itemId);
    if (interests.size === 0) return fromModel.filter(kept).slice(0, options.n).map((s) => ({ ...s, categories: [] }));
    const seen = new Set(excludeSeen ? history.map((e) => e.itemId) : []);
    const inInterests = (itemId: string) => this.catalog.categories(itemId).some((c) => interests.has(c));
    const popular = this.popularity.top(BLEND_CANDIDATES, (id) => !seen.has(id) && (!filter || filter(id)) && inInterests(id), BLEND_SCAN);
    return blend({ model: fromModel, popular, interests, share }, this.catalog).filter(kept).slice(0, options.n);
  }

  /** `because`: the model's item reasons (for items it knows), then a blended item's category reasons. */
  private because(model: Recommender, userId: string, item: Scored & { categories?: CategoryReason[] }): ScoredItem['because'] {
    const fromItems = model.hasItem(item.itemId) ? model.explain(userId, item.itemId, EXPLAIN_ITEMS).contributions : [];
    return [...fromItems, ...(item.categories ?? [])];
  }

  /** The candidates when seen items may come back: only those seen within `reshowAfterDays` stay out. */
  private reshowPool(rank: Ranker, request: RecommendRequest, history: Event[]): ScoredItem[] {
    const since = this.clock() - (request.reshowAfterDays ?? 0) * DAY_MS;
    return rank({
      n: poolSize(request.n, request.diversity ?? 0),
      exclude: [...(request.exclude ?? []), ...history.filter((e) => e.timestamp >= since).map((e) => e.itemId)],
      excludeSeen: false,
      filter: this.catalog.filter(request.categories, request.excludeCategories),
    });
  }

  /** The user's stored events; none for an unknown user (nothing is read or cached for a stranger). */
  private async historyIfKnown(userId: string): Promise<Event[]> {
    if (this.profiles.histories.has(userId) || (await this.store.getUser(userId))) return this.profiles.history(userId);
    return [];
  }
}

function seenIn(history: Event[], exclude: string[] = []): Set<string> {
  const seen = new Set(exclude);
  for (const e of history) seen.add(e.itemId);
  return seen;
}
