/**
 * Prequential ("test-then-train") replay: events are played back in time order, and each one
 * is first predicted, then learned from. It measures what liverec is built for — profiles that
 * change with every feedback — which a frozen train/test split cannot show.
 *
 * It drives the engine itself (src/engine: an in-memory store, live ingest, serving, retraining
 * on the training thread), so what it reports is what a server does with the same events:
 *
 * Per test event (u, i): the engine recommends k items for u (leaving out what u has already
 * seen; users without a profile get its cold-start popularity); a hit scores NDCG
 * 1/log2(rank + 1). Then the event is ingested by mode:
 *   static           nothing changes: the model, histories and popularity stay as trained
 *   fold-in          the event is posted live, as POST /v1/feedback: stored, the user folded
 *                    in (new users added), an item the model never trained on folded in from
 *                    its feedback
 *   fold-in+retrain  fold-in, plus a retrain on every event so far, every `retrainEvery`
 * The event's timestamp is the engine's clock, and flood detection is off (a dataset's bulk
 * rating sessions are not bots). Every test event counts, including ones that cannot be hits:
 * an item the model does not know, or an item u has already seen (seen items are left out, so a
 * re-interaction always misses; `repeatEvents` says how many there were, so
 * 1 − repeatEvents/events bounds the hit rate).
 *
 * What a user's events become as model input is the engine's signals.ts, configured by `signals`:
 *   flat   each event a rating of weight 1 (or `weight(row)`), never decayed; rating models
 *          see the rating itself. Repeats of a (user, item) pair keep the latest.
 *   decay  each event a rating of its value, weighted per star and decayed by the rating
 *          half-life measured from the user's own latest event, as a live engine turns a stored
 *          history into a profile
 */
import type { BlendSettings } from '../engine/blend.ts';
import { DEFAULT_CONFIG, resolveConfig, type EngineConfig } from '../engine/config.ts';
import { Engine } from '../engine/engine.ts';
import { InvalidInputError } from '../errors.ts';
import { createModel, isExplicit } from '../model/index.ts';
import type { Algorithm } from '../model/types.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { FeedbackInput } from '../store/types.ts';
import { popularityRanks } from './metrics.ts';
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
   * flat: the weight of one event (a repeated (user, item) pair keeps its latest). Defaults to
   * 1; for rating models (als, svd) to the rating.
   */
  weight?: (row: RatingRow) => number;
  /**
   * The catalog (item categories) loaded before training: what the profile's interests and the
   * blend read. Without it items have no categories and the blend has nothing to mix in.
   */
  items?: ReadonlyArray<{ itemId: string; categories: string[] }>;
  /** The engine's profile-aware blend for short histories (EngineConfig.blend); the engine default when omitted. */
  blend?: BlendSettings | false;
  /** Called every PROGRESS_EVERY test events and at the end. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Test events grouped by how many events their user had before them (train and earlier test
 * events alike): new users, short, medium and long histories.
 */
export const REPLAY_COHORTS = [
  { cohort: 'new', minEvents: 0, maxEvents: 0 },
  { cohort: '1-5', minEvents: 1, maxEvents: 5 },
  { cohort: '6-20', minEvents: 6, maxEvents: 20 },
  { cohort: '>20', minEvents: 21, maxEvents: Infinity },
] as const;

export interface ReplayCohort {
  cohort: (typeof REPLAY_COHORTS)[number]['cohort'];
  events: number;
  hitRate: number;
  ndcg: number;
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
  /** Whether the blend was on (and with which setting). */
  blend: BlendSettings | false;
  /** Hit-rate and NDCG by the user's history length at the time of the event (REPLAY_COHORTS). */
  cohorts: ReplayCohort[];
  /** Share of the catalog (items in the data) that appeared in any list. */
  coverage: number;
  /**
   * Mean popularity rank of the recommended items (1 = the item most users had in training;
   * eval's `novelty`): lower means more mainstream lists, higher more of the long tail.
   */
  popularityRank: number;
  /** Fitting the initial model; not part of the per-event cost. */
  trainSeconds: number;
  /** Throughput of recommend + ingest (retrains included), the cost of serving live. */
  eventsPerSecond: number;
  msPerEvent: number;
  windows: ReplayWindow[];
}

const PROGRESS_EVERY = 1000;

/** Events per import batch when loading the training part. */
const IMPORT_BATCH = 50_000;

export async function replay(rows: readonly RatingRow[], options: ReplayOptions): Promise<ReplayResult> {
  const {
    mode, trainFraction = 0.8, k = 10, algorithm = 'implicit-als', params = {}, retrainEvery = 5000, windows = 10,
    signals = 'flat', halfLifeDays = DEFAULT_HALF_LIFE_DAYS, blend = DEFAULT_CONFIG.blend,
  } = options;
  checkOptions(mode, trainFraction, k, retrainEvery, windows);
  checkSignals(signals, halfLifeDays, options.weight);
  // Params are checked before any event is stored, naming the bad one.
  const probe = createModel(algorithm, params);
  const resolved = { ...probe.params };
  probe.dispose();
  const explicit = isExplicit(algorithm as Algorithm);
  const weight = signals === 'flat' ? (options.weight ?? (explicit ? (row: RatingRow) => row.value : () => 1)) : (row: RatingRow) => row.value;
  const config = { ...engineConfig(algorithm as Algorithm, params, signals, halfLifeDays), blend };

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
  const toEvent = (row: RatingRow): FeedbackInput => ({ userId: row.user, itemId: row.item, type: 'rating', value: weight(row), timestamp: row.timestamp });

  let now = events[0].timestamp;
  const store = SqliteStore.open(':memory:');
  const engine = await Engine.open(store, config, () => now);
  try {
    if (options.items) await engine.upsertItems(options.items.map((item) => ({ itemId: item.itemId, categories: item.categories })));
    for (let t = 0; t < trainCount; t += IMPORT_BATCH) await engine.importFeedback(events.slice(t, Math.min(t + IMPORT_BATCH, trainCount)).map(toEvent));
    now = events[trainCount - 1].timestamp;
    const fitStart = performance.now();
    await engine.trainNow();
    const trainSeconds = (performance.now() - fitStart) / 1000;

    const seen = new Map<string, Set<string>>();
    const see = (row: RatingRow) => {
      let items = seen.get(row.user);
      if (!items) seen.set(row.user, (items = new Set()));
      items.add(row.item);
    };
    for (let t = 0; t < trainCount; t++) see(events[t]);
    // Events per user so far, in every mode (a static model does not learn, but the user lived on).
    const lived = new Map<string, number>();
    for (let t = 0; t < trainCount; t++) lived.set(events[t].user, (lived.get(events[t].user) ?? 0) + 1);
    const cohortOf = new Uint8Array(testCount);
    // What lists lean on: popularity as distinct training users per item (eval's novelty ranks).
    const usersOf = new Map<string, Set<string>>();
    for (let t = 0; t < trainCount; t++) {
      const { item, user } = events[t];
      let users = usersOf.get(item);
      if (!users) usersOf.set(item, (users = new Set()));
      users.add(user);
    }
    const rankOf = popularityRanks(new Map([...usersOf].map(([item, users]) => [item, users.size])));
    const shown = new Set<string>();
    let rankSum = 0, slots = 0;

    const gains = new Float64Array(testCount);
    let repeatEvents = 0, unknownItemEvents = 0, coldUserEvents = 0, retrains = 0, busyMs = 0;
    for (let j = 0; j < testCount; j++) {
      const e = events[trainCount + j];
      now = e.timestamp;
      const before = lived.get(e.user) ?? 0;
      lived.set(e.user, before + 1);
      cohortOf[j] = REPLAY_COHORTS.findIndex((c) => before >= c.minEvents && before <= c.maxEvents);
      const start = performance.now();
      const model = engine.servingModel!;
      if (!model.hasProfile(e.user)) coldUserEvents++;
      if (seen.get(e.user)?.has(e.item)) repeatEvents++;
      if (!model.hasItem(e.item)) unknownItemEvents++;
      const recs = (await engine.recommend(e.user, { n: k })).recommendations;
      const rank = recs.findIndex((r) => r.itemId === e.item) + 1;
      for (const r of recs) {
        shown.add(r.itemId);
        rankSum += rankOf(r.itemId);
      }
      slots += recs.length;
      gains[j] = rank > 0 ? 1 / Math.log2(rank + 1) : 0;

      if (mode !== 'static') {
        see(e);
        await engine.addFeedback(toEvent(e), k);
        const done = j + 1;
        // A refit after the last event could not change any score, so it is skipped.
        if (mode === 'fold-in+retrain' && done % retrainEvery === 0 && done < testCount) {
          await engine.trainNow();
          retrains++;
        }
      }
      busyMs += performance.now() - start;
      if (options.onProgress && ((j + 1) % PROGRESS_EVERY === 0 || j + 1 === testCount)) options.onProgress(j + 1, testCount);
    }

    const total = summarise(gains, 0, testCount);
    return {
      mode,
      algorithm: algorithm as Algorithm,
      params: resolved,
      signals,
      halfLifeDays: signals === 'decay' ? halfLifeDays : null,
      decayFloor: signals === 'decay' ? config.decayFloor : null,
      k,
      trainEvents: trainCount,
      events: testCount,
      hitRate: total.hitRate,
      ndcg: total.ndcg,
      repeatEvents,
      unknownItemEvents,
      coldUserEvents,
      retrains,
      blend,
      cohorts: REPLAY_COHORTS.map((c, index) => ({ cohort: c.cohort, ...summariseWhere(gains, cohortOf, index) })),
      coverage: shown.size / new Set(events.map((e) => e.item)).size,
      popularityRank: slots > 0 ? rankSum / slots : NaN,
      trainSeconds,
      eventsPerSecond: busyMs > 0 ? testCount / (busyMs / 1000) : Infinity,
      msPerEvent: busyMs / testCount,
      windows: slices(gains, events.slice(trainCount), windows),
    };
  } finally {
    await engine.close();
    await store.close();
  }
}

/**
 * The engine's settings for a replay: every event is a rating, weighted per star by the rating
 * rule (flat: weight 1 per star and no decay, the row's weight carried as the value); no
 * background retrains (the replay retrains at fixed points), no flood guard, no segments.
 */
function engineConfig(algorithm: Algorithm, params: Record<string, unknown>, signals: ReplaySignals, halfLifeDays: number): EngineConfig {
  return resolveConfig({
    algorithm, params, retrainEvery: 0, retrainMinutes: 0, floodEventsPerSecond: 0, segments: 0, keepModels: 1, createMissingItems: true,
    signals: { rating: { weight: 1, halfLifeDays: signals === 'decay' ? halfLifeDays : 0 } },
  });
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

function checkSignals(signals: string, halfLifeDays: number, weight: ReplayOptions['weight']): void {
  if (!(REPLAY_SIGNALS as readonly string[]).includes(signals)) {
    throw new InvalidInputError(`unknown signals '${signals}': expected one of ${REPLAY_SIGNALS.join(', ')}`, 'signals');
  }
  if (signals === 'flat') return;
  if (!(halfLifeDays >= 0 && Number.isFinite(halfLifeDays))) {
    throw new InvalidInputError(`halfLifeDays must be a non-negative number, got ${halfLifeDays}`, 'halfLifeDays');
  }
  if (weight) throw new InvalidInputError('a custom weight applies to flat signals only; decay weighs events as the engine does', 'weight');
}

function summarise(gains: Float64Array, from: number, to: number): { hitRate: number; ndcg: number } {
  let hits = 0, ndcg = 0;
  for (let j = from; j < to; j++) {
    if (gains[j] > 0) hits++;
    ndcg += gains[j];
  }
  return { hitRate: hits / (to - from), ndcg: ndcg / (to - from) };
}

/** Hit-rate and NDCG over the events of one cohort (0 when it has none). */
function summariseWhere(gains: Float64Array, cohortOf: Uint8Array, cohort: number): { events: number; hitRate: number; ndcg: number } {
  let events = 0, hits = 0, ndcg = 0;
  for (let j = 0; j < gains.length; j++) {
    if (cohortOf[j] !== cohort) continue;
    events++;
    if (gains[j] > 0) hits++;
    ndcg += gains[j];
  }
  return { events, hitRate: events > 0 ? hits / events : 0, ndcg: events > 0 ? ndcg / events : 0 };
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
