import type { FeedbackInput, FeedbackType, ItemInput, ItemRecord } from '../store/types.ts';

/**
 * What the HTTP server and CLI ask of the engine. Errors it throws: `InvalidInputError`
 * (src/errors.ts, → 400), `NotFoundError` (src/store/errors.ts, → 404),
 * `StoreUnavailableError` (→ 503). All times in results are ISO-8601 strings.
 */

/** A recommended item, its score and, when asked, why. */
export interface ScoredItem {
  itemId: string;
  score: number;
  /**
   * With `explain`: the user's items that pushed this score most, with their contribution, and
   * for a blended list (short histories, see EngineConfig.blend) the user's categories with their
   * share of the score.
   */
  because?: Array<ItemReason | CategoryReason>;
}

/** One of the user's items and how much it pushed a recommendation's score (the model's own explanation). */
export interface ItemReason {
  itemId: string;
  weight: number;
}

/** One of the user's categories and its share (0–1) of a blended recommendation's score. */
export interface CategoryReason {
  category: string;
  weight: number;
}

/** How many items `Engine.recommend` returns, which it leaves out, and how it orders them. */
export interface RecommendRequest {
  /** 1–100. */
  n: number;
  /** Only items in one of these categories. */
  categories?: string[];
  /** Never items in any of these categories. */
  excludeCategories?: string[];
  /** Item ids never returned. */
  exclude?: string[];
  /** Add `because` to every recommendation. */
  explain?: boolean;
  /** 0–1: trade relevance for variety (maximal marginal relevance over item categories). */
  diversity?: number;
  /** Items the user interacted with longer ago than this many days may be shown again. */
  reshowAfterDays?: number;
}

/** A user's recommendations and the model version that produced them. */
export interface RecommendResult {
  userId: string;
  /** null while recommendations come from popularity (no model yet). */
  modelVersion: number | null;
  recommendations: ScoredItem[];
}

/** The answer to `Engine.addFeedback`: what was stored and the user's updated recommendations. */
export interface FeedbackResult extends RecommendResult {
  /** Events stored by this request (0 for an exact duplicate). */
  accepted: number;
  duplicates: number;
  /** True when the user is quarantined (events stored, not learned from). */
  quarantined?: boolean;
}

export interface ImportResult {
  accepted: number;
  duplicates: number;
}

/** The serving model (version null before the first training) and any retrain in progress. */
export interface ModelInfo {
  version: number | null;
  status: 'ready' | 'training' | 'empty';
  algorithm: string;
  params: Record<string, unknown>;
  trainedAt: string | null;
  metrics: Record<string, unknown>;
  /** Present while a retrain runs. */
  training?: TrainingStatus;
}

/**
 * Where a running retrain is. `starting`: the training set (read from the store before the job
 * began) is on its way to the training thread; `fitting`: the model's steps run; `saving`: the
 * fitted model is being serialised. Swapping it in afterwards is synchronous, never observed.
 */
export type TrainingPhase = 'starting' | 'fitting' | 'saving';

export interface TrainingStatus {
  jobId: string;
  startedAt: string;
  /** Share of the fit's steps done, 0–1, never decreasing within a job (1 while saving). */
  progress: number;
  phase: TrainingPhase;
}

export interface CategoryWeight {
  category: string;
  weight: number;
}

export interface Segment {
  id: number;
  /** The segment's top categories, e.g. "Comedy & Romance". */
  label: string;
  /** Users assigned at the last retrain. */
  size: number;
}

export interface Profile {
  userId: string;
  interactions: number;
  firstSeen: string;
  lastSeen: string;
  /** When the profile last changed (the newest stored event's arrival). */
  updatedAt: string;
  /** Decayed interest per category, summing to 1. */
  topCategories: CategoryWeight[];
  /** Nearest segment to the user's current vector; null without a factor model. */
  segment: { id: number; label: string } | null;
  /** How far the user moved since the last retrain; null when there is nothing to compare. */
  drift: { distance: number; grew: CategoryWeight[]; shrank: CategoryWeight[] } | null;
  /** Events by type over the last 7 and 30 days (wall clock). */
  activity: { last7Days: Record<string, number>; last30Days: Record<string, number> };
  /** Quarantine flags: while present, the user's events are kept but not learned from. */
  flags: Array<{ reason: string; at: string }>;
}

export interface SegmentMap {
  segments: Segment[];
  points: Array<{ userId: string; x: number; y: number; segment: number }>;
  /** Share of variance along each axis. */
  explained: [number, number];
}

export interface UserExport {
  userId: string;
  profile: Profile;
  feedback: Array<{ itemId: string; type: string; value: number | null; timestamp: number }>;
}

export interface Stats {
  feedback: { total: number; byType: Record<string, number> };
  eventsPerMinute: Array<{ minute: string; byType: Record<string, number> }>;
  quarantinedUsers: number;
}

export interface Health {
  status: 'ok';
  model: { version: number | null; status: ModelInfo['status'] };
  items: number;
  feedback: number;
  /** Problems the engine recovered from (e.g. a corrupt model file skipped at load). */
  warnings: string[];
}

/** A point-in-time reading for operators (GET /metrics), cheap enough to take on every scrape. */
export interface EngineMetrics {
  model: {
    /** null until a model has been trained. */
    version: number | null;
    /** Seconds since the serving model was trained, by the engine's clock; null without one. */
    ageSeconds: number | null;
    /** True while a retrain runs. */
    training: boolean;
    /** The running retrain's progress (0–1, as in ModelInfo.training); null when none runs. */
    trainingProgress: number | null;
  };
  /** Catalog items, unavailable ones included. */
  items: number;
  /** Stored feedback rows (an exact duplicate is stored once). */
  feedback: number;
  quarantinedUsers: number;
  /** Reads of a user's personal list since the engine opened: answered from the cached list (hits) or ranked (misses); items cached now. */
  listCache: { hits: number; misses: number; items: number };
}

/**
 * Hooks the engine calls as it works, for operators (src/server/metrics.ts turns them into
 * Prometheus metrics). Calls are synchronous and must be cheap; an observer that throws is ignored.
 */
export interface EngineObserver {
  /** Events stored (`accepted`) or recognised as exact duplicates, per type, for single posts and imports alike. */
  feedback?(type: FeedbackType, accepted: number, duplicates: number): void;
  /** Seconds addFeedback spent after the commit: folding the user in and ranking their new top-N. */
  foldIn?(seconds: number): void;
  /**
   * A retrain ended: seconds from its start until the new model served, until it failed, or until
   * it found nothing to train on (`skipped`: no usable feedback, e.g. every user quarantined).
   */
  training?(outcome: 'success' | 'failure' | 'skipped', seconds: number): void;
  /** A running retrain reported progress (0–1, never decreasing within a job); model() already shows it. */
  trainingProgress?(progress: number, phase: TrainingPhase): void;
}

export interface EngineApi {
  health(): Promise<Health>;
  /** Upserts in slices of a few hundred items, one transaction each, other requests answered between them. */
  upsertItems(items: ItemInput[]): Promise<number>;
  /** NotFoundError when unknown. */
  getItem(itemId: string): Promise<ItemRecord>;
  /** Marks the item unavailable (never recommended again); history is kept. NotFoundError when unknown. */
  deleteItem(itemId: string): Promise<void>;
  /**
   * Stores one event durably, folds the user's profile in, answers with updated recommendations.
   * Resolves once the event is committed; concurrent posts share one commit (group commit).
   */
  addFeedback(event: FeedbackInput, n: number): Promise<FeedbackResult>;
  /**
   * Stores a batch (a backfill) in slices of a few hundred events, each its own transaction, other
   * requests answered between slices; no per-user recommendations and no flood check. Unknown
   * items (without createMissingItems) are refused before anything is stored; a store failure
   * mid-way leaves the earlier slices stored, and retrying the batch is safe (exact duplicates
   * are stored once).
   */
  importFeedback(events: FeedbackInput[]): Promise<ImportResult>;
  /** Unknown users get cold-start (popular) items, never an error. */
  recommend(userId: string, request: RecommendRequest): Promise<RecommendResult>;
  /** Recommendations for an anonymous visitor from a transient fold-in; nothing is stored. */
  recommendSession(itemIds: string[], request: RecommendRequest): { modelVersion: number | null; recommendations: ScoredItem[] };
  /** NotFoundError when the item is unknown. */
  similarItems(itemId: string, n: number): ScoredItem[];
  /** NotFoundError when the user is unknown. */
  similarUsers(userId: string, n: number): Promise<Array<{ userId: string; score: number }>>;
  popular(request: RecommendRequest): ScoredItem[];
  /** NotFoundError when the user is unknown. */
  profile(userId: string): Promise<Profile>;
  /**
   * Erases the user's feedback and vector; resolves once the saved model is scrubbed too and the
   * id is nowhere in the database. NotFoundError when unknown.
   */
  deleteUser(userId: string): Promise<{ deleted: number }>;
  /** Lifts a quarantine flag and folds the user back in. NotFoundError when unknown. */
  unflagUser(userId: string): Promise<{ userId: string; flags: [] }>;
  /** Segments from the last retrain, largest first. */
  segments(): Segment[];
  /** Users projected to 2-D (PCA of their vectors, in the WebAssembly core), with their segment. */
  segmentMap(limit?: number): SegmentMap;
  /** Everything stored about a user (right of access). NotFoundError when unknown. */
  exportUser(userId: string): Promise<UserExport>;
  /** Event totals and per-minute arrivals over the last 30 minutes. */
  stats(): Promise<Stats>;
  /** Recorded `eval` / `replay` runs, newest first. */
  evaluations(): Promise<Array<{ kind: string; createdAt: string; summary: Record<string, unknown> }>>;
  /** Starts a background retrain; resolves immediately with its job id. */
  train(): Promise<{ jobId: string }>;
  model(): ModelInfo;
  /** Gauges for operators; see EngineMetrics. */
  metrics(): Promise<EngineMetrics>;
  /** Calls `observer` as feedback is stored and folded in and models are trained; returns a function that stops it. */
  observe(observer: EngineObserver): () => void;
}
