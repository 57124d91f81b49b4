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

/**
 * A bulk load of feedback (`liverec import`): rows `add`ed are stored as `addFeedback` with
 * `createMissingItems` stores them (users upserted, bare items created, exact duplicates stored
 * once, the first in input order kept), and are durable once `finish` resolves. Before that a
 * backend may hold them back (SQLite stores the whole load in one transaction at `finish`) or
 * store them batch by batch; ids are assigned in an order of the backend's choosing.
 */
export interface FeedbackImport {
  add(events: FeedbackInput[]): Promise<void>;
  /** Stores what is still pending; rows stored and exact duplicates skipped, over the whole load. */
  finish(): Promise<{ accepted: number; duplicates: number }>;
  /** Gives up what is not yet stored (after a failure); rows already stored stay. */
  abort(): Promise<void>;
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

/** The catalog: items with their metadata and availability. */
export interface ItemStore {
  /** One transaction; returns the number of inputs written. */
  upsertItems(items: ItemInput[], now?: number): Promise<number>;
  getItem(itemId: string): Promise<ItemRecord | null>;
  /** The items found, in the order asked (unknown ids left out). */
  getItems(itemIds: string[]): Promise<ItemRecord[]>;
  /** Returns false if the item is unknown. */
  setItemAvailable(itemId: string, available: boolean, now?: number): Promise<boolean>;
  /** All items in insertion order. */
  listItems(): Promise<ItemRecord[]>;
}

/** The feedback log: append-only events (deleted only by erasure and retention), with the reads training and serving need. */
export interface FeedbackLog {
  /**
   * All or nothing. Upserts users (first/last seen by event timestamp). An unknown item is created
   * bare when `createMissingItems`, otherwise NotFoundError('itemId') is thrown and nothing is stored.
   * Exact duplicates (same user, item, type, timestamp) are stored once and counted in `duplicates`.
   */
  addFeedback(events: FeedbackInput[], options: AddFeedbackOptions): Promise<AddFeedbackResult>;
  /** Starts a bulk load; see FeedbackImport. One at a time per store. */
  importFeedback(): Promise<FeedbackImport>;
  /** Ordered by timestamp, then id. */
  userFeedback(userId: string): Promise<FeedbackRecord[]>;
  /**
   * Where a user's history stands: stored rows and the highest feedback id among them (0, 0 when
   * the user has none). A server sharing the log compares it with what its cached profile saw.
   */
  userWatermark(userId: string): Promise<{ count: number; maxId: number }>;
  /** Rows with id > afterId in id order; no limit when `limit` is omitted. */
  feedbackSince(afterId: number, limit?: number): Promise<FeedbackRecord[]>;
  /**
   * Popularity of every item with counted events, aggregated in the database (one pass, no row
   * reaches JavaScript): Σ 2^((ts − anchor)/halfLifeMs) over its events of the `types` given, plus
   * its ratings whose value has the sign of `ratingSign` (0 counts no rating). The anchor is the
   * newest event's timestamp, so every term is at most 1; halfLifeMs 0 counts events plainly.
   */
  decayedItemCounts(halfLifeMs: number, types: FeedbackType[], ratingSign: number): Promise<{ anchor: number; items: Array<{ itemId: string; weight: number }> }>;
  /** Streams all feedback in id order. `fn` must not write to the store. */
  forEachFeedback(fn: (row: FeedbackRecord) => void): Promise<void>;
  /**
   * Streams every user's complete history (events by timestamp), one user at a time, so training
   * can aggregate exactly as fold-in does without holding the whole log in memory. Flagged users
   * are skipped unless `includeFlagged`. `fn` must not write to the store.
   */
  forEachUserHistory(fn: (userId: string, events: FeedbackRecord[]) => void, options?: { includeFlagged?: boolean }): Promise<void>;
  /** Everything stored about one item's interactions, ordered by timestamp then id. */
  itemFeedback(itemId: string): Promise<FeedbackRecord[]>;
  /** Events received at or after `since`, counted per minute (epoch ms of the minute) and type. */
  arrivalsSince(since: number): Promise<Array<{ minute: number; type: FeedbackType; count: number }>>;
  /** Stored events per type. */
  countsByType(): Promise<Partial<Record<FeedbackType, number>>>;
  countFeedback(): Promise<number>;
  /** 0 when empty. */
  maxFeedbackId(): Promise<number>;
  /** Distinct user ids with feedback id > afterId. */
  usersWithFeedbackAfter(afterId: number): Promise<string[]>;
  /** Deletes feedback received before `before` (retention) and users left without events; returns rows removed. */
  pruneFeedback(before: number): Promise<number>;
}

/** Users: first/last seen, interaction counts, quarantine flags, erasure. */
export interface UserStore {
  getUser(userId: string): Promise<UserRecord | null>;
  /** Quarantines a user (returns false when unknown). */
  flagUser(userId: string, reason: string, at: number): Promise<boolean>;
  /** Clears a user's flag (returns false when unknown). */
  unflagUser(userId: string): Promise<boolean>;
  /** Ids of flagged users. */
  flaggedUsers(): Promise<string[]>;
  /** Removes the user's feedback and user row together; returns feedback rows removed (0 when unknown). */
  deleteUser(userId: string): Promise<number>;
}

/** Trained models, checksummed; the newest few kept. */
export interface ModelRegistry {
  /** Assigns version = last + 1, stores bytes with a sha256 checksum, keeps the newest `keep` (default 3). */
  saveModel(meta: Omit<ModelMeta, 'version'>, bytes: Uint8Array, keep?: number): Promise<ModelMeta>;
  /** Newest first. */
  latestModels(): Promise<ModelMeta[]>;
  /** Throws CorruptModelError if the bytes no longer match their checksum, NotFoundError('version') when pruned. */
  loadModelBytes(version: number): Promise<Uint8Array>;
}

/** Evaluation runs and the audit trail of privacy-relevant actions. */
export interface AuditLog {
  addEvaluation(kind: string, summary: Record<string, unknown>, at?: number): Promise<void>;
  /** Newest first. */
  evaluations(limit?: number): Promise<Evaluation[]>;
  audit(action: string, subject: string | null, detail?: Record<string, unknown>, at?: number): Promise<void>;
  /** Newest first. */
  auditLog(limit?: number): Promise<AuditEntry[]>;
}

/**
 * What one server changed that the other servers on the same database must apply: written in
 * the same transaction as the change itself, so a committed change is never missed.
 * `items`: upserts or retirements (subject: the item ids); `flags`: a quarantine set or lifted;
 * `erase`: a user erased (subject: sha256 of the stored user id, never the id itself);
 * `model`: a model version saved (subject: the version).
 */
export type ChangeKind = 'items' | 'flags' | 'erase' | 'model';

export interface Change {
  id: number;
  kind: ChangeKind;
  subject: string[];
  at: number;
}

/** A store shared by several servers (PostgreSQL) also offers this; SQLite, owned by one process, does not. */
export interface Replication {
  /** Changes with id > afterId, oldest first (at most `limit`). */
  changesSince(afterId: number, limit?: number): Promise<Change[]>;
  /** Highest change id, 0 when none. */
  lastChangeId(): Promise<number>;
  /**
   * Deletes changes recorded before `before` (epoch ms); the count removed. Every server applies
   * the log within a second, so old rows serve nobody, and an erasure's row (a hash of the user id)
   * should not outlive its purpose.
   */
  pruneChanges(before: number): Promise<number>;
  /**
   * Calls `fn` soon after any server commits a change (a wake-up, possibly with the raw user id
   * of an erasure, which is never stored). Delivery is best effort: notices sent while the
   * connection is down are lost, so callers also poll `changesSince`. Returns an unsubscribe.
   */
  subscribe(fn: (kind: ChangeKind, userId?: string) => void): Promise<() => Promise<void>>;
  /**
   * Takes a cluster-wide lock named `name` without waiting: the release function, or null when
   * another server holds it. A server that dies releases it with its connection.
   */
  tryLock(name: string): Promise<(() => Promise<void>) | null>;
}

/** SQLite-only upkeep, kept apart from the contract every backend meets. */
export interface FileMaintenance {
  /**
   * Moves everything written so far into the main file and empties the write-ahead log; false
   * when a long read on another connection kept it from finishing within the busy timeout.
   */
  checkpoint(): Promise<boolean>;
  /** Copies the database, online, to `path` (SQLite backup API). */
  backup(path: string): Promise<void>;
}

/**
 * Everything the engine persists. `SqliteStore` (one process, a file) and `PostgresStore` (any
 * number of servers, one database) implement it; the shared contract suite in test/store runs
 * against both. Failures the client may retry surface as StoreUnavailableError (→ 503).
 */
export interface Store extends ItemStore, FeedbackLog, UserStore, ModelRegistry, AuditLog {
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Where the data lives, for work that opens its own connection (the training thread): a file
   * path or a postgres:// URL; null when the store cannot be opened twice (an in-memory database).
   */
  location(): string | null;
  /** Present when several servers share this store. */
  readonly replication: Replication | null;
  /** Present on a file database (SQLite). */
  readonly maintenance: FileMaintenance | null;
  close(): Promise<void>;
}
