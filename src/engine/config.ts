import type { Algorithm } from '../model/types.ts';
import type { FeedbackType } from '../store/types.ts';
import type { BlendSettings } from './blend.ts';

/** How one feedback type counts toward a user's interest in an item. */
export interface SignalRule {
  /** Weight of one fresh event (for `rating`: per star, so 5 stars weigh 5×). Negative = "less of this". */
  weight: number;
  /** Days after which an event counts half; 0 = never decays. */
  halfLifeDays: number;
}

/** Every engine setting with its default. The README's configuration table mirrors this. */
export interface EngineConfig {
  /** The serving model's algorithm. Implicit ALS learns from every feedback type. */
  algorithm: Algorithm;
  /** Model parameters (the algorithm's defaults when omitted). */
  params: Record<string, unknown>;
  /** Weight and half-life per feedback type (see signals.ts for how they combine). */
  signals: Record<FeedbackType, SignalRule>;
  /**
   * Decay never takes an event below this share of its fresh weight: old interests fade but do
   * not vanish, so one click today does not erase years of history.
   */
  decayFloor: number;
  /** Feedback about an unknown item creates the item (else 404). */
  createMissingItems: boolean;
  /** Retrain in the background after this many new events (0 = never by count). */
  retrainEvery: number;
  /** Retrain in the background at this interval in minutes (0 = never by time). */
  retrainMinutes: number;
  /** Saved model versions kept in the store. */
  keepModels: number;
  /** Half-life of an event's contribution to popularity (cold start), in days. */
  popularityHalfLifeDays: number;
  /** A user posting more than this many events per second, sustained over `floodWindowSeconds`, is quarantined. 0 = off. */
  floodEventsPerSecond: number;
  floodWindowSeconds: number;
  /** User segments computed at each retrain (k-means over user vectors). */
  segments: number;
  /** When set, user ids are stored as salted hashes (HMAC-SHA-256) instead of raw ids. */
  pseudonymSalt: string | null;
  /** Feedback older than this many days (by arrival) is pruned daily; 0 keeps everything. */
  retentionDays: number;
  /**
   * Short histories: a user's list mixes the model's ranking with popular items in the user's
   * decayed categories, the model's share rising with history length until `historyItems`
   * distinct items (see blend.ts). false = the model ranks alone.
   */
  blend: BlendSettings | false;
  /**
   * Ranked lists kept for repeat reads (see list-cache.ts), counted in items over all users —
   * about 85 bytes each at 10 a user — least recently read users dropped first. 0 = every read ranks.
   */
  listCacheItems: number;
  /**
   * Approximate top-N for factor models (an index built on the training thread at each retrain):
   * `auto` from ANN_MIN_ITEMS (ann.ts) items, `on` at any size, `off` scores the whole catalog (exact).
   */
  ann: 'auto' | 'on' | 'off';
}

/** The settings an engine runs with when `Engine.open` is given none. */
export const DEFAULT_CONFIG: EngineConfig = {
  algorithm: 'implicit-als',
  params: {},
  signals: {
    view: { weight: 1, halfLifeDays: 7 },
    click: { weight: 2, halfLifeDays: 14 },
    cart: { weight: 4, halfLifeDays: 30 },
    purchase: { weight: 8, halfLifeDays: 180 },
    like: { weight: 4, halfLifeDays: 90 },
    dislike: { weight: -4, halfLifeDays: 90 },
    rating: { weight: 1, halfLifeDays: 365 },
  },
  decayFloor: 0.1,
  createMissingItems: true,
  retrainEvery: 10_000,
  retrainMinutes: 60,
  keepModels: 3,
  popularityHalfLifeDays: 30,
  floodEventsPerSecond: 20,
  floodWindowSeconds: 5,
  segments: 8,
  pseudonymSalt: null,
  retentionDays: 0,
  blend: { historyItems: 20 },
  listCacheItems: 500_000,
  ann: 'auto',
};

/** What `Engine.open` takes: any subset of `EngineConfig`, per signal type too; the rest comes from `DEFAULT_CONFIG`. */
export type EngineConfigInput = Partial<Omit<EngineConfig, 'signals'>> & { signals?: Partial<Record<FeedbackType, Partial<SignalRule>>> };

export function resolveConfig(config: EngineConfigInput = {}): EngineConfig {
  const signals = { ...DEFAULT_CONFIG.signals };
  for (const [type, rule] of Object.entries(config.signals ?? {}) as Array<[FeedbackType, Partial<SignalRule>]>) {
    signals[type] = { ...DEFAULT_CONFIG.signals[type], ...rule };
  }
  return { ...DEFAULT_CONFIG, ...config, signals };
}
