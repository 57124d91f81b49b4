/**
 * Prequential ("test-then-train") replay: events are played back in time order, and each one
 * is first predicted, then learned from. It measures what liverec is built for — profiles that
 * change with every feedback — which a frozen train/test split cannot show.
 *
 * Per test event (u, i): the current model recommends k items for u, leaving out what u has
 * already seen; a hit scores NDCG 1/log2(rank + 1). Then the event is ingested by mode:
 *   static           nothing changes: the model and every user's history stay as trained
 *   fold-in          the event joins u's history and u is folded in (new users get added)
 *   fold-in+retrain  fold-in, plus a fresh model on every event so far, every `retrainEvery`
 * Every test event counts, including ones that cannot be hits: an item the model does not know,
 * or an item u has already seen (seen items are left out, so a re-interaction always misses;
 * `repeatEvents` says how many there were, so 1 − repeatEvents/events bounds the hit rate).
 *
 * What a user's events become as model input is set by `signals`, for the initial fit, every
 * fold-in and every retrain alike:
 *   flat   weight 1 per event (repeats summed), or the rating for rating models
 *   decay  the engine's own signals.ts: each event is a `rating` of its value, weighted per star
 *          and decayed by the rating half-life measured from the user's own latest event, as a
 *          live engine turns a stored history into a profile
 */
import { Interactions, type DuplicatePolicy } from '../data/interactions.ts';
import { DEFAULT_CONFIG, resolveConfig, type EngineConfig } from '../engine/config.ts';
import { userSignals } from '../engine/signals.ts';
import { InvalidInputError } from '../errors.ts';
import { createModel, isExplicit } from '../model/index.ts';
import type { Algorithm, Recommender, UserInteraction } from '../model/types.ts';
import type { RatingRow } from './readers.ts';

export const REPLAY_MODES = ['static', 'fold-in', 'fold-in+retrain'] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

export const REPLAY_SIGNALS = ['flat', 'decay'] as const;
export type ReplaySignals = (typeof REPLAY_SIGNALS)[number];

/** The engine's default rating half-life (365 days). */
export const DEFAULT_HALF_LIFE_DAYS = DEFAULT_CONFIG.signals.rating.halfLifeDays;

export interface ReplayOptions {
  mode: ReplayMode;
  /** Share of the time-ordered events (by count) the initial model trains on; in (0, 1). */
  trainFraction?: number;
  /** Recommendation list length. */
  k?: number;
  algorithm?: string;
  /** Model params, validated by the algorithm's schema. */
  params?: Record<string, unknown>;
  /** fold-in+retrain: refit after this many test events. */
  retrainEvery?: number;
  /** Equal-count slices of the test period reported separately. */
  windows?: number;
  /**
   * How events become model input: 'flat' (the default) weighs every event by `weight`;
   * 'decay' builds each user's history with the engine's userSignals(), the events taken as
   * ratings with the rating half-life `halfLifeDays`. Rating models (als, svd) see the latest
   * rating undecayed either way, as in the engine, so for them the two agree.
   */
  signals?: ReplaySignals;
  /** decay: days after which a rating counts half (0 = never decays: star weights only). Default 365. */
  halfLifeDays?: number;
  /**
   * flat: the implicit weight of one event (repeats of a (user, item) pair add up). Defaults
   * to 1; for rating models (als, svd) it defaults to the rating, and repeats keep the last one.
   */
  weight?: (row: RatingRow) => number;
  /** Called every PROGRESS_EVERY test events and at the end. */
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayWindow {
  /** ISO dates of the slice's first and last event. */
  from: string;
  to: string;
  events: number;
  hitRate: number;
  ndcg: number;
}

export interface ReplayResult {
  mode: ReplayMode;
  algorithm: Algorithm;
  /** The model's params after defaults, so a run can be reproduced. */
  params: Record<string, number | string | boolean>;
  signals: ReplaySignals;
  /** decay: the rating half-life and the engine's decay floor used; null for flat. */
  halfLifeDays: number | null;
  decayFloor: number | null;
  k: number;
  trainEvents: number;
  /** Test events replayed; every one is scored. */
  events: number;
  hitRate: number;
  ndcg: number;
  /** Test events whose item was already excluded as seen for the user: certain misses. */
  repeatEvents: number;
  /** Test events whose item the model did not know: certain misses. */
  unknownItemEvents: number;
  /** Test events for users the model did not know, answered by training popularity. */
  coldUserEvents: number;
  retrains: number;
  /** Fitting the initial model; not part of the per-event cost. */
  trainSeconds: number;
  /** Throughput of recommend + ingest (retrains included), the cost of serving live. */
  eventsPerSecond: number;
  msPerEvent: number;
  windows: ReplayWindow[];
}

const PROGRESS_EVERY = 1000;

export function replay(rows: readonly RatingRow[], options: ReplayOptions): ReplayResult {
  const {
    mode, trainFraction = 0.8, k = 10, algorithm = 'implicit-als', params = {}, retrainEvery = 5000, windows = 10,
    signals = 'flat', halfLifeDays = DEFAULT_HALF_LIFE_DAYS,
  } = options;
  checkOptions(mode, trainFraction, k, retrainEvery, windows);
  const explicit = isExplicit(algorithm as Algorithm);
  const config = checkSignals(signals, halfLifeDays, options.weight);
  const histories: Histories = config ? new DecayHistories(config, explicit) : new FlatHistories(options.weight, explicit);

  // Array.prototype.sort is stable, so events with equal timestamps keep file order.
  const events = [...rows].sort((a, b) => a.timestamp - b.timestamp);
  const trainCount = Math.round(events.length * trainFraction);
  if (trainCount < 1 || trainCount >= events.length) {
    throw new InvalidInputError(
      `trainFraction ${trainFraction} of ${events.length} events leaves ${trainCount < 1 ? 'no training' : 'no test'} events; both sides need at least one`,
      'trainFraction',
    );
  }
  const testCount = events.length - trainCount;

  const fitStart = performance.now();
  let { model, popularity } = fitOn(histories.data(events.slice(0, trainCount)), algorithm, params);
  const trainSeconds = (performance.now() - fitStart) / 1000;

  for (let t = 0; t < trainCount; t++) histories.add(events[t]);

  const gains = new Float64Array(testCount);
  let repeatEvents = 0, unknownItemEvents = 0, coldUserEvents = 0, retrains = 0, busyMs = 0;
  for (let j = 0; j < testCount; j++) {
    const e = events[trainCount + j];
    const start = performance.now();
    const seen = histories.seen(e.user);
    let recs: string[];
    if (model.hasUser(e.user)) {
      recs = model.recommend(e.user, { n: k }).map((s) => s.itemId);
    } else {
      recs = popularity.top(k, seen);
      coldUserEvents++;
    }
    const rank = recs.indexOf(e.item) + 1;
    gains[j] = rank > 0 ? 1 / Math.log2(rank + 1) : 0;
    if (seen?.has(e.item)) repeatEvents++;
    if (!model.hasItem(e.item)) unknownItemEvents++;

    if (mode !== 'static') {
      histories.add(e);
      foldIn(model, e.user, histories);
      const done = j + 1;
      // A refit after the last event could not change any score, so it is skipped.
      if (mode === 'fold-in+retrain' && done % retrainEvery === 0 && done < testCount) {
        ({ model, popularity } = fitOn(histories.data(events.slice(0, trainCount + done)), algorithm, params));
        retrains++;
      }
    }
    busyMs += performance.now() - start;
    if (options.onProgress && ((j + 1) % PROGRESS_EVERY === 0 || j + 1 === testCount)) options.onProgress(j + 1, testCount);
  }

  const total = summarise(gains, 0, testCount);
  return {
    mode,
    algorithm: model.algorithm,
    params: { ...model.params },
    signals,
    halfLifeDays: config ? halfLifeDays : null,
    decayFloor: config ? config.decayFloor : null,
    k,
    trainEvents: trainCount,
    events: testCount,
    hitRate: total.hitRate,
    ndcg: total.ndcg,
    repeatEvents,
    unknownItemEvents,
    coldUserEvents,
    retrains,
    trainSeconds,
    eventsPerSecond: busyMs > 0 ? testCount / (busyMs / 1000) : Infinity,
    msPerEvent: busyMs / testCount,
    windows: slices(gains, events.slice(trainCount), windows),
  };
}

function checkOptions(mode: string, trainFraction: number, k: number, retrainEvery: number, windows: number): void {
  if (!(REPLAY_MODES as readonly string[]).includes(mode)) {
    throw new InvalidInputError(`unknown replay mode '${mode}': expected one of ${REPLAY_MODES.join(', ')}`, 'mode');
  }
  if (!(trainFraction > 0 && trainFraction < 1)) {
    throw new InvalidInputError(`trainFraction must be a number strictly between 0 and 1, got ${trainFraction}`, 'trainFraction');
  }
  for (const [name, value] of [['k', k], ['retrainEvery', retrainEvery], ['windows', windows]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer, got ${value}`, name);
  }
}

/** The engine config behind decay mode (null for flat), after checking the signal options. */
function checkSignals(signals: string, halfLifeDays: number, weight: ReplayOptions['weight']): EngineConfig | null {
  if (!(REPLAY_SIGNALS as readonly string[]).includes(signals)) {
    throw new InvalidInputError(`unknown signals '${signals}': expected one of ${REPLAY_SIGNALS.join(', ')}`, 'signals');
  }
  if (signals === 'flat') return null;
  if (!(halfLifeDays >= 0 && Number.isFinite(halfLifeDays))) {
    throw new InvalidInputError(`halfLifeDays must be a non-negative number, got ${halfLifeDays}`, 'halfLifeDays');
  }
  if (weight) throw new InvalidInputError('a custom weight applies to flat signals only; decay weighs events as the engine does', 'weight');
  return resolveConfig({ signals: { rating: { halfLifeDays } } });
}

/** Every user's events so far, and what they become as model input. */
interface Histories {
  /** Records one event (events arrive in time order). */
  add(row: RatingRow): void;
  /** Items the user has interacted with so far, or undefined for a user with no events. */
  seen(user: string): ReadonlySet<string> | ReadonlyMap<string, unknown> | undefined;
  /** The user's whole history as model input. */
  input(user: string): UserInteraction[];
  /** Model input for a fit on `rows`, the time-ordered events so far. */
  data(rows: readonly RatingRow[]): Interactions;
}

/** One weight per event, combined per (user, item) by the duplicate policy: the historical replay. */
class FlatHistories implements Histories {
  private readonly users = new Map<string, Map<string, number>>();
  private readonly weight: (row: RatingRow) => number;
  private readonly duplicates: DuplicatePolicy;

  constructor(weight: ((row: RatingRow) => number) | undefined, explicit: boolean) {
    this.duplicates = explicit ? 'last' : 'sum';
    this.weight = weight ?? (explicit ? (row: RatingRow) => row.value : () => 1);
  }

  add(row: RatingRow): void {
    let history = this.users.get(row.user);
    if (!history) this.users.set(row.user, (history = new Map()));
    const value = this.weight(row);
    const prev = history.get(row.item);
    history.set(row.item, prev !== undefined && this.duplicates === 'sum' ? prev + value : value);
  }

  seen(user: string): ReadonlyMap<string, number> | undefined {
    return this.users.get(user);
  }

  input(user: string): UserInteraction[] {
    return Array.from(this.users.get(user) ?? [], ([itemId, value]) => ({ itemId, value }));
  }

  data(rows: readonly RatingRow[]): Interactions {
    return Interactions.from(rows.map((row) => ({ userId: row.user, itemId: row.item, value: this.weight(row) })), this.duplicates);
  }
}

type SignalEvent = { itemId: string; type: 'rating'; value: number; timestamp: number };

const toEvent = (row: RatingRow): SignalEvent => ({ itemId: row.item, type: 'rating', value: row.value, timestamp: row.timestamp });

/**
 * Each user's events kept whole and turned into input by the engine's userSignals() on every
 * use, as Engine.refresh (fold-in) and buildTrainingSet (retrain) do.
 */
class DecayHistories implements Histories {
  private readonly events = new Map<string, SignalEvent[]>();
  private readonly items = new Map<string, Set<string>>();

  constructor(
    private readonly config: EngineConfig,
    private readonly explicit: boolean,
  ) {}

  add(row: RatingRow): void {
    let events = this.events.get(row.user);
    if (!events) {
      this.events.set(row.user, (events = []));
      this.items.set(row.user, new Set());
    }
    events.push(toEvent(row));
    this.items.get(row.user)!.add(row.item);
  }

  seen(user: string): ReadonlySet<string> | undefined {
    return this.items.get(user);
  }

  input(user: string): UserInteraction[] {
    return userSignals(this.events.get(user) ?? [], this.config, this.explicit);
  }

  /**
   * Rows are emitted in time order of each (user, item) pair's first event, as flat mode does,
   * so users and items get the same indices and both modes start from the same seeded factors
   * and break popularity ties alike. Pairs userSignals() drops (a total of 0) are left out.
   */
  data(rows: readonly RatingRow[]): Interactions {
    const byUser = new Map<string, SignalEvent[]>();
    for (const row of rows) {
      let events = byUser.get(row.user);
      if (!events) byUser.set(row.user, (events = []));
      events.push(toEvent(row));
    }
    const values = new Map<string, Map<string, number>>();
    for (const [userId, events] of byUser) {
      values.set(userId, new Map(userSignals(events, this.config, this.explicit).map(({ itemId, value }) => [itemId, value])));
    }
    const input: Array<{ userId: string; itemId: string; value: number }> = [];
    for (const row of rows) {
      const value = values.get(row.user)!.get(row.item);
      if (value !== undefined) input.push({ userId: row.user, itemId: row.item, value });
    }
    return Interactions.from(input, 'last');
  }
}

function fitOn(data: Interactions, algorithm: string, params: Record<string, unknown>): { model: Recommender; popularity: Popularity } {
  return { model: createModel(algorithm, params).fit(data), popularity: new Popularity(data) };
}

/**
 * Refolds the user from their whole history. A new user whose items are all unknown to the
 * model is left out: their profile would be an all-zero vector that ranks items arbitrarily,
 * while staying unknown keeps them on the popularity fallback until a known item arrives.
 */
function foldIn(model: Recommender, user: string, histories: Histories): void {
  if (!model.hasUser(user) && ![...histories.seen(user)!.keys()].some((item) => model.hasItem(item))) return;
  model.foldInUser(user, histories.input(user));
}

/**
 * Items by number of training users, most first; ties go to the item seen first, as in the
 * `popular` model. The cold-start answer for users the model does not know.
 */
class Popularity {
  private readonly order: string[];

  constructor(data: Interactions) {
    const counts = new Int32Array(data.items.size);
    for (let t = 0; t < data.size; t++) counts[data.itemIdx[t]]++;
    const indices = Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a] || a - b);
    this.order = indices.map((i) => data.items.id(i));
  }

  top(k: number, seen: { has(item: string): boolean } | undefined): string[] {
    const out: string[] = [];
    for (let t = 0; t < this.order.length && out.length < k; t++) if (!seen?.has(this.order[t])) out.push(this.order[t]);
    return out;
  }
}

function summarise(gains: Float64Array, from: number, to: number): { hitRate: number; ndcg: number } {
  let hits = 0, ndcg = 0;
  for (let j = from; j < to; j++) {
    if (gains[j] > 0) hits++;
    ndcg += gains[j];
  }
  return { hitRate: hits / (to - from), ndcg: ndcg / (to - from) };
}

/** `count` contiguous slices of near-equal size (fewer when there are fewer events). */
function slices(gains: Float64Array, test: RatingRow[], count: number): ReplayWindow[] {
  const n = Math.min(count, test.length);
  const out: ReplayWindow[] = [];
  for (let w = 0; w < n; w++) {
    const from = Math.floor((w * test.length) / n);
    const to = Math.floor(((w + 1) * test.length) / n);
    out.push({
      from: new Date(test[from].timestamp).toISOString(),
      to: new Date(test[to - 1].timestamp).toISOString(),
      events: to - from,
      ...summarise(gains, from, to),
    });
  }
  return out;
}
