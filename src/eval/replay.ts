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
 */
import { Interactions, type DuplicatePolicy } from '../data/interactions.ts';
import { InvalidInputError } from '../errors.ts';
import { createModel, isExplicit } from '../model/index.ts';
import type { Algorithm, Recommender } from '../model/types.ts';
import type { RatingRow } from './readers.ts';

export const REPLAY_MODES = ['static', 'fold-in', 'fold-in+retrain'] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

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
   * The implicit weight of one event (repeats of a (user, item) pair add up). Defaults to 1;
   * for rating models (als, svd) it defaults to the rating, and repeats keep the last one.
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

/** Item → weight the user gave it so far (repeats combined by the duplicate policy). */
type UserHistory = Map<string, number>;

export function replay(rows: readonly RatingRow[], options: ReplayOptions): ReplayResult {
  const { mode, trainFraction = 0.8, k = 10, algorithm = 'implicit-als', params = {}, retrainEvery = 5000, windows = 10 } = options;
  checkOptions(mode, trainFraction, k, retrainEvery, windows);
  const explicit = isExplicit(algorithm as Algorithm);
  const duplicates: DuplicatePolicy = explicit ? 'last' : 'sum';
  const weight = options.weight ?? (explicit ? (row: RatingRow) => row.value : () => 1);

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
  let { model, popularity } = fitOn(events.slice(0, trainCount), algorithm, params, weight, duplicates);
  const trainSeconds = (performance.now() - fitStart) / 1000;

  const histories = new Map<string, UserHistory>();
  for (let t = 0; t < trainCount; t++) addTo(histories, events[t], weight, duplicates);

  const gains = new Float64Array(testCount);
  let repeatEvents = 0, unknownItemEvents = 0, coldUserEvents = 0, retrains = 0, busyMs = 0;
  for (let j = 0; j < testCount; j++) {
    const e = events[trainCount + j];
    const start = performance.now();
    const seen = histories.get(e.user);
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
      const history = addTo(histories, e, weight, duplicates);
      foldIn(model, e.user, history);
      const done = j + 1;
      // A refit after the last event could not change any score, so it is skipped.
      if (mode === 'fold-in+retrain' && done % retrainEvery === 0 && done < testCount) {
        ({ model, popularity } = fitOn(events.slice(0, trainCount + done), algorithm, params, weight, duplicates));
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

function fitOn(
  rows: RatingRow[], algorithm: string, params: Record<string, unknown>, weight: (row: RatingRow) => number, duplicates: DuplicatePolicy,
): { model: Recommender; popularity: Popularity } {
  const data = Interactions.from(
    rows.map((row) => ({ userId: row.user, itemId: row.item, value: weight(row) })),
    duplicates,
  );
  return { model: createModel(algorithm, params).fit(data), popularity: new Popularity(data) };
}

function addTo(histories: Map<string, UserHistory>, row: RatingRow, weight: (row: RatingRow) => number, duplicates: DuplicatePolicy): UserHistory {
  let history = histories.get(row.user);
  if (!history) histories.set(row.user, (history = new Map()));
  const value = weight(row);
  const prev = history.get(row.item);
  history.set(row.item, prev !== undefined && duplicates === 'sum' ? prev + value : value);
  return history;
}

/**
 * Refolds the user from their whole history. A new user whose items are all unknown to the
 * model is left out: their profile would be an all-zero vector that ranks items arbitrarily,
 * while staying unknown keeps them on the popularity fallback until a known item arrives.
 */
function foldIn(model: Recommender, user: string, history: UserHistory): void {
  if (!model.hasUser(user) && ![...history.keys()].some((item) => model.hasItem(item))) return;
  model.foldInUser(user, Array.from(history, ([itemId, value]) => ({ itemId, value })));
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

  top(k: number, seen: UserHistory | undefined): string[] {
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
