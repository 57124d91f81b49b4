import type { Algorithm } from '../model/types.ts';
import type { FeedbackType } from '../store/types.ts';

/** Every engine setting with its default. The README's configuration table mirrors this. */
export interface EngineConfig {
  /** The serving model's algorithm. Implicit ALS learns from every feedback type. */
  algorithm: Algorithm;
  /** Model parameters (the algorithm's defaults when omitted). */
  params: Record<string, unknown>;
  /**
   * Implicit weight per feedback type; a user–item pair's weight is the sum over its events.
   * `rating` is special: its weight is the rating value itself, so 5 stars counts more than 1.
   * Negative weights (dislike) tell implicit ALS "not this" with confidence.
   */
  weights: Record<Exclude<FeedbackType, 'rating'>, number>;
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
}

export const DEFAULT_CONFIG: EngineConfig = {
  algorithm: 'implicit-als',
  params: {},
  weights: { view: 1, click: 2, cart: 4, purchase: 8, like: 4, dislike: -4 },
  createMissingItems: true,
  retrainEvery: 10_000,
  retrainMinutes: 60,
  keepModels: 3,
  popularityHalfLifeDays: 30,
};

export function resolveConfig(config: Partial<EngineConfig> = {}): EngineConfig {
  return { ...DEFAULT_CONFIG, ...config, weights: { ...DEFAULT_CONFIG.weights, ...config.weights } };
}
