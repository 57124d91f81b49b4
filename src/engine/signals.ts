import type { UserInteraction } from '../model/types.ts';
import type { FeedbackInput, FeedbackType } from '../store/types.ts';
import type { EngineConfig } from './config.ts';

const DAY_MS = 86_400_000;

type Event = Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'>;

/** Weight of one event before decay: the type's weight, times the stars for a rating. */
export function eventWeight(event: Pick<FeedbackInput, 'type' | 'value'>, config: EngineConfig): number {
  const { weight } = config.signals[event.type];
  return event.type === 'rating' ? weight * (event.value ?? 0) : weight;
}

/** 2^(−age / half-life), never below `decayFloor`; 1 when the type does not decay. */
export function decay(type: FeedbackType, age: number, config: EngineConfig): number {
  const halfLife = config.signals[type].halfLifeDays * DAY_MS;
  return halfLife > 0 ? Math.max(2 ** (-Math.max(age, 0) / halfLife), config.decayFloor) : 1;
}

/**
 * One user's events → their history as a model sees it. The same function feeds training and
 * fold-in, so a retrained profile and a folded-in one agree.
 *
 * Explicit models see only ratings: the latest per item, undecayed. Implicit models see every
 * event, decayed by its type's half-life. Age is measured from the user's own latest event, not
 * from the wall clock: a returning user is not a blank, and a dataset spanning decades (MovieLens)
 * does not decay to nothing. Repeats of one type on one item add with diminishing returns,
 * weight · log2(1 + Σ decay), so ten views count about 3.5 views, not 10; a rating counts once
 * (its latest value). Item totals of 0 carry no signal and are dropped.
 */
export function userSignals(events: readonly Event[], config: EngineConfig, explicit: boolean): UserInteraction[] {
  if (explicit) {
    const latest = new Map<string, Event>();
    for (const e of events) {
      if (e.type !== 'rating' || e.value === null) continue;
      const prev = latest.get(e.itemId);
      if (!prev || e.timestamp >= prev.timestamp) latest.set(e.itemId, e);
    }
    return [...latest].map(([itemId, e]) => ({ itemId, value: e.value! }));
  }
  let now = -Infinity;
  for (const e of events) if (e.timestamp > now) now = e.timestamp;
  // Per item and type: summed decay (repeatable types) or the latest rating's decayed value.
  const sums = new Map<string, Map<FeedbackType, { decayed: number; at: number }>>();
  for (const e of events) {
    let byType = sums.get(e.itemId);
    if (!byType) sums.set(e.itemId, (byType = new Map()));
    const d = decay(e.type, now - e.timestamp, config);
    const prev = byType.get(e.type);
    if (e.type === 'rating') {
      if (!prev || e.timestamp >= prev.at) byType.set('rating', { decayed: eventWeight(e, config) * d, at: e.timestamp });
    } else {
      byType.set(e.type, { decayed: (prev?.decayed ?? 0) + d, at: e.timestamp });
    }
  }
  const out: UserInteraction[] = [];
  for (const [itemId, byType] of sums) {
    let value = 0;
    for (const [type, { decayed }] of byType) {
      value += type === 'rating' ? decayed : config.signals[type].weight * Math.log2(1 + decayed);
    }
    if (value !== 0 && Number.isFinite(value)) out.push({ itemId, value });
  }
  return out;
}
