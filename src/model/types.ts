import type { Interaction, Interactions } from '../data/interactions.ts';
import type { CoreBank } from '../wasm/core-bank.ts';
import type { IndexBuildOptions } from './item-index-build.ts';

/** `als` and `svd` learn from ratings; `implicit-als`, `item-knn`, `ease` and `popular` from implicit weights. */
export type Algorithm = 'als' | 'implicit-als' | 'svd' | 'item-knn' | 'popular' | 'ease';

/** A recommended item and its score (higher is better; comparable within one answer only). */
export interface Scored {
  itemId: string;
  score: number;
}

/** A similar user and the similarity score. */
export interface ScoredUser {
  userId: string;
  score: number;
}

/** What a model's `recommend` leaves out and how many items it returns. */
export interface RecommendOptions {
  /** How many items to return (default 10). */
  n?: number;
  /** Item ids never returned. */
  exclude?: Iterable<string>;
  /** Leave out the items the user has interacted with (default true). */
  excludeSeen?: boolean;
  /** Only items for which this returns true compete. */
  filter?: (itemId: string) => boolean;
  /** Candidate mask by the model's item index (1 = allowed), for callers that cache one. */
  candidates?: Uint8Array;
  /** Score the whole catalog even when the model has an approximate index (see LatentFactors.buildIndex). */
  exact?: boolean;
}

/** One of the user's items and how much it pushed an item's score. */
export interface Contribution {
  itemId: string;
  weight: number;
}

/** Why an item scored as it did: the user's items that contributed most, with their share of the score. */
export interface Explanation {
  score: number;
  contributions: Contribution[];
}

/** What a user did to an item, as a model sees it: rating or implicit weight. */
export type UserInteraction = Pick<Interaction, 'itemId' | 'value'>;

/** How a model is made, beyond its params. */
export interface ModelOptions {
  /**
   * Take the model's WebAssembly core from this bank and give it back on `dispose`, so a process
   * that loads model after model reuses their memory (an engine retraining for weeks).
   */
  cores?: CoreBank;
}

/** How far a fit has come: `done` of `total` steps. What a step is depends on the algorithm (see its `fit`). */
export interface FitProgress {
  done: number;
  total: number;
}

export interface FitOptions {
  /**
   * Called with done = 0 before the first step and after every step, done = total last. Runs on the
   * fitting thread between steps: it must be cheap (throttle anything that leaves the thread).
   */
  onProgress?: (progress: FitProgress) => void;
}

/**
 * What latent-factor models (ALS, implicit ALS, SVD) offer beyond the common verbs: their user
 * and item vectors. Reached through `Recommender.latent`, so callers ask for the capability
 * instead of testing a model's class.
 */
export interface LatentFactors {
  /** Vector length. */
  readonly factors: number;
  /** A copy of the user's vector (UnknownIdError when unknown). */
  userVector(userId: string): Float32Array;
  /** A copy of the item's vector (UnknownIdError when unknown). */
  itemVector(itemId: string): Float32Array;
  /** Whether the item's vector was learned in training (not placed by cold start or fold-in). */
  itemTrained(itemId: string): boolean;
  /** Sets an item's vector directly (cold start from its category before any feedback); adds the item when new. */
  setItemVector(itemId: string, vector: ArrayLike<number>): void;
  /**
   * Recomputes one item's vector from the users who interacted with it, user vectors held fixed;
   * adds the item when new.
   */
  foldInItem(itemId: string, interactions: Array<{ userId: string; value: number }>): Float32Array;
  /** k-means over unit user vectors; beyond `sample` users an even stride is clustered. */
  clusterUsers(clusters: number, seed: number, sample?: number): { users: string[]; labels: Int32Array; centroids: Float32Array; k: number };
  /** Unit user vectors projected on their two principal components. */
  projectUsers(sample?: number): { users: string[]; coords: Float32Array; explained: [number, number] };
  /**
   * A copy of every user's vector as it is now (one block copy, user row r at r·factors) and the
   * row of a user id in it: -1 for users unknown now or added after the copy, and for erased ones.
   */
  userSnapshot(): { vectors: Float32Array; rowOf(userId: string): number };
  /** The prediction when both ids are known, else the global mean plus whichever biases are known. */
  predictOrFallback(userId: string, itemId: string): number;
  /**
   * Builds an approximate top-N index over the items (an inverted file in the core; tens of seconds
   * per million items, so off the serving thread; on `options.threads` threads). recommend, recommendFor and similarItems then
   * search it unless asked for `exact`, scoring exactly only the items it proposes; filters and
   * exclusions are met by searching deeper and, failing that, by the full scan. Saved with the model.
   */
  buildIndex(options?: IndexBuildOptions): Promise<void>;
  /** Back to scoring the whole catalog. */
  dropIndex(): void;
  /** Whether an index is in use. */
  readonly indexed: boolean;
  /** Core memory the index holds, in bytes (0 without one). */
  readonly indexBytes: number;
  /** Leaves an item out of index searches while it is retired (or puts it back); exact scans are unaffected. */
  setItemRetired(itemId: string, retired: boolean): void;
}

/**
 * The verbs every liverec model answers. Documented once, here.
 */
export interface Recommender {
  readonly algorithm: Algorithm;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** Number of users and items the model knows. */
  readonly userCount: number;
  readonly itemCount: number;
  /** The model's user and item vectors, for latent-factor models; undefined for the others. */
  readonly latent?: LatentFactors;

  /** Learns from scratch on `data`; deterministic for a given `params.seed`. Reports progress to `options.onProgress`. */
  fit(data: Interactions, options?: FitOptions): this;
  /** As `fit`, on `params.threads` threads where the algorithm can share its work (else it is `fit`). */
  fitAsync(data: Interactions, options?: FitOptions): Promise<this>;
  /** The best `n` items for a known user, best first. */
  recommend(userId: string, options?: RecommendOptions): Scored[];
  /** The model's score for one (user, item) pair; for rating models, a rating. */
  predict(userId: string, itemId: string): number;
  /** Items most like `itemId`, excluding itself, best first. */
  similarItems(itemId: string, n?: number): Scored[];
  /** Users most like `userId`, excluding themselves, best first. */
  similarUsers(userId: string, n?: number): ScoredUser[];
  /**
   * Recomputes one user's profile from that user's complete history with the item side held
   * fixed; adds the user when new. Returns the new user vector (empty for models without one).
   */
  foldInUser(userId: string, history: UserInteraction[]): Float32Array;
  /**
   * Erases a user: vector zeroed, history dropped, id replaced by a tombstone so it is in
   * neither memory nor the next `save()`. Item-side statistics the model keeps from user rows
   * (item-kNN similarities) are recomputed without the user.
   */
  forgetUser(userId: string): void;
  /** Recommendations for a transient history without storing a user (anonymous sessions). */
  recommendFor(history: UserInteraction[], options?: RecommendOptions): Scored[];
  /** The user's items that contribute most to `itemId`'s score, largest first. */
  explain(userId: string, itemId: string, n?: number): Explanation;
  /** Whether the user/item is known. */
  hasUser(userId: string): boolean;
  /**
   * Whether the user is known and has something to recommend from: at least one interaction, or
   * (factor models) a vector learned elsewhere, as the users of an imported model have.
   */
  hasProfile(userId: string): boolean;
  hasItem(itemId: string): boolean;
  /** The user's items as the model knows them (training data or the last fold-in). */
  userHistory(userId: string): UserInteraction[];
  /** How many items the model knows the user for (0 for an unknown user): `userHistory`'s length, without building it. */
  historyLength(userId: string): number;
  /** Serialises the whole model (params, ids, arrays) to the versioned binary format. */
  save(): Uint8Array;
  /**
   * Releases the model's WebAssembly memory — to the CoreBank it was made with, for the next
   * model, else to the garbage collector. The model is unfitted afterwards and cannot be fitted
   * or restored again. Safe to call twice.
   */
  dispose(): void;
}
