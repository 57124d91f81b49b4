/**
 * The storage contract. The engine, trainer and HTTP server code against `Store`, never against
 * SQLite directly, so these names are a shared API: add members, never rename them.
 * All times are epoch milliseconds.
 */

export const FEEDBACK_TYPES = ['view', 'click', 'cart', 'purchase', 'like', 'dislike', 'rating'] as const;
/** The kinds of feedback; each has a weight and half-life in the engine's `signals`. */
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** Omitted fields keep their stored value on an existing item (and take defaults on a new one). */
export interface ItemInput {
  itemId: string;
  title?: string | null;
  categories?: string[];
  metadata?: Record<string, unknown>;
  available?: boolean;
}

/** A catalog item as stored; unavailable items are never recommended. */
export interface ItemRecord {
  itemId: string;
  title: string | null;
  categories: string[];
  metadata: Record<string, unknown>;
  available: boolean;
  createdAt: number;
  updatedAt: number;
}

/** One feedback event; `value` is the stars of a `rating` (0.5–5) and null for the other types. */
export interface FeedbackInput {
  userId: string;
  itemId: string;
  type: FeedbackType;
  value: number | null;
  /** Event time as reported by the client. */
  timestamp: number;
}

export interface FeedbackRecord extends FeedbackInput {
  /** Monotonically increasing row id; models record the highest one they saw. */
  id: number;
  /** Server time the event was stored. */
  receivedAt: number;
}

export interface UserRecord {
  userId: string;
  firstSeen: number;
  lastSeen: number;
  /** Stored feedback rows; duplicates are not counted. */
  interactions: number;
  /** Set while the user is quarantined (e.g. posting at a bot's rate). */
  flag: { reason: string; at: number } | null;
}

export interface ModelMeta {
  version: number;
  algorithm: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainedAt: number;
  /** Highest feedback id the model saw. */
  feedbackWatermark: number;
}

export interface AddFeedbackResult {
  accepted: number;
  duplicates: number;
  /** Per input event, in order: true when stored, false when it was an exact duplicate. */
  stored: boolean[];
  /** Item ids created on the fly because `createMissingItems` was set, each listed once. */
  createdItems: string[];
}

export interface AddFeedbackOptions {
  createMissingItems: boolean;
  /** Defaults to the current time. */
  receivedAt?: number;
}

export interface Evaluation {
  kind: string;
  createdAt: number;
  summary: Record<string, unknown>;
}

export interface AuditEntry {
  at: number;
  action: string;
  subject: string | null;
  detail: Record<string, unknown>;
}

/** Everything the engine persists: catalog, feedback, users, models, evaluations, audit log. `SqliteStore` implements it. */
export interface Store {
  /** One transaction; returns the number of inputs written. */
  upsertItems(items: ItemInput[], now?: number): number;
  getItem(itemId: string): ItemRecord | null;
  /** Returns false if the item is unknown. */
  setItemAvailable(itemId: string, available: boolean, now?: number): boolean;
  /** All items in insertion order. */
  listItems(): ItemRecord[];
  /**
   * All or nothing. Upserts users (first/last seen by event timestamp). An unknown item is created
   * bare when `createMissingItems`, otherwise NotFoundError('itemId') is thrown and nothing is stored.
   * Exact duplicates (same user, item, type, timestamp) are stored once and counted in `duplicates`.
   */
  addFeedback(events: FeedbackInput[], options: AddFeedbackOptions): AddFeedbackResult;
  /** Ordered by timestamp, then id. */
  userFeedback(userId: string): FeedbackRecord[];
  /** Rows with id > afterId in id order; no limit when `limit` is omitted. */
  feedbackSince(afterId: number, limit?: number): FeedbackRecord[];
  /**
   * Popularity of every item with counted events, aggregated in the database (one pass, no row
   * reaches JavaScript): Σ 2^((ts − anchor)/halfLifeMs) over its events of the `types` given, plus
   * its ratings whose value has the sign of `ratingSign` (0 counts no rating). The anchor is the
   * newest event's timestamp, so every term is at most 1; halfLifeMs 0 counts events plainly.
   */
  decayedItemCounts(halfLifeMs: number, types: FeedbackType[], ratingSign: number): { anchor: number; items: Array<{ itemId: string; weight: number }> };
  /** Streams all feedback in id order. `fn` may read from the store but must not write to it. */
  forEachFeedback(fn: (row: FeedbackRecord) => void): void;
  /**
   * Streams every user's complete history (events by timestamp), one user at a time, so training
   * can aggregate exactly as fold-in does without holding the whole log in memory. Flagged users
   * are skipped unless `includeFlagged`.
   */
  forEachUserHistory(fn: (userId: string, events: FeedbackRecord[]) => void, options?: { includeFlagged?: boolean }): void;
  /** Everything stored about one item's interactions, ordered by timestamp then id. */
  itemFeedback(itemId: string): FeedbackRecord[];
  /** Quarantines a user (returns false when unknown). */
  flagUser(userId: string, reason: string, at: number): boolean;
  /** Clears a user's flag (returns false when unknown). */
  unflagUser(userId: string): boolean;
  /** Ids of flagged users. */
  flaggedUsers(): string[];
  /** Events received at or after `since`, counted per minute (epoch ms of the minute) and type. */
  arrivalsSince(since: number): Array<{ minute: number; type: FeedbackType; count: number }>;
  /** Stored events per type. */
  countsByType(): Partial<Record<FeedbackType, number>>;
  addEvaluation(kind: string, summary: Record<string, unknown>, at?: number): void;
  /** Newest first. */
  evaluations(limit?: number): Evaluation[];
  audit(action: string, subject: string | null, detail?: Record<string, unknown>, at?: number): void;
  /** Newest first. */
  auditLog(limit?: number): AuditEntry[];
  /** Deletes feedback received before `before` (retention); returns rows removed. */
  pruneFeedback(before: number): number;
  /**
   * Moves everything written so far into the main file and empties the write-ahead log; false
   * when a long read on another connection kept it from finishing within the busy timeout.
   */
  checkpoint(): boolean;
  /** Copies the database, online, to `path` (SQLite backup API). */
  backup(path: string): Promise<void>;
  countFeedback(): number;
  /** 0 when empty. */
  maxFeedbackId(): number;
  getUser(userId: string): UserRecord | null;
  /** Removes the user's feedback and user row together; returns feedback rows removed. */
  deleteUser(userId: string): number;
  /** Distinct user ids with feedback id > afterId. */
  usersWithFeedbackAfter(afterId: number): string[];
  /** Assigns version = last + 1, stores bytes with a sha256 checksum, keeps the newest `keep` (default 3). */
  saveModel(meta: Omit<ModelMeta, 'version'>, bytes: Uint8Array, keep?: number): ModelMeta;
  /** Newest first. */
  latestModels(): ModelMeta[];
  /** Throws CorruptModelError if the bytes no longer match their checksum. */
  loadModelBytes(version: number): Uint8Array;
  /**
   * The database file, for work that opens its own connection (the training thread); null when
   * the store cannot be opened twice (an in-memory database).
   */
  location(): string | null;
  close(): void;
}
