import type { UserRecord } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import type { Event } from './history-cache.ts';
import { userSignals } from './signals.ts';
import type { CategoryWeight, Profile } from './types.ts';

const TOP_CATEGORIES = 5;
const DRIFT_CATEGORIES = 3;
const DAY_MS = 86_400_000;

/** Decayed interest per category (the same signals the model learns from), summing to 1. */
export function categoryWeights(events: readonly Event[], catalog: Catalog, config: EngineConfig): Map<string, number> {
  const weights = new Map<string, number>();
  let total = 0;
  for (const { itemId, value } of userSignals(events, config, false)) {
    if (value <= 0) continue;
    for (const category of catalog.categories(itemId)) {
      weights.set(category, (weights.get(category) ?? 0) + value);
      total += value;
    }
  }
  for (const [category, w] of weights) weights.set(category, w / total);
  return weights;
}

export function topOf(weights: Map<string, number>, count = TOP_CATEGORIES): CategoryWeight[] {
  return [...weights]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, count)
    .map(([category, weight]) => ({ category, weight }));
}

export interface ProfileContext {
  catalog: Catalog;
  config: EngineConfig;
  now: number;
  segment: { id: number; label: string } | null;
  /** 1 − cosine between the user's vector now and at the last retrain, when both exist. */
  distance: number | null;
  /** Arrival time of the last retrain's data: events received after it are "since the retrain". */
  trainedAt: number | null;
}

/** Who a user is, from their stored history and the model's view of them. */
export function profileOf(user: UserRecord, events: readonly Event[], ctx: ProfileContext): Profile {
  const now = categoryWeights(events, ctx.catalog, ctx.config);
  let drift: Profile['drift'] = null;
  if (ctx.distance !== null && ctx.trainedAt !== null) {
    const before = categoryWeights(events.filter((e) => e.receivedAt <= ctx.trainedAt!), ctx.catalog, ctx.config);
    const change = new Map<string, number>();
    for (const c of new Set([...now.keys(), ...before.keys()])) change.set(c, (now.get(c) ?? 0) - (before.get(c) ?? 0));
    const sorted = [...change].filter(([, d]) => Math.abs(d) > 1e-9).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    drift = {
      distance: ctx.distance,
      grew: sorted.filter(([, d]) => d > 0).slice(0, DRIFT_CATEGORIES).map(([category, weight]) => ({ category, weight })),
      shrank: sorted.filter(([, d]) => d < 0).reverse().slice(0, DRIFT_CATEGORIES).map(([category, weight]) => ({ category, weight })),
    };
  }
  const updatedAt = events.reduce((latest, e) => Math.max(latest, e.receivedAt), user.lastSeen);
  return {
    userId: user.userId,
    interactions: user.interactions,
    firstSeen: new Date(user.firstSeen).toISOString(),
    lastSeen: new Date(user.lastSeen).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
    topCategories: topOf(now),
    segment: ctx.segment,
    drift,
    activity: { last7Days: activity(events, ctx.now - 7 * DAY_MS), last30Days: activity(events, ctx.now - 30 * DAY_MS) },
    flags: user.flag ? [{ reason: user.flag.reason, at: new Date(user.flag.at).toISOString() }] : [],
  };
}

function activity(events: readonly Event[], since: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) if (e.timestamp >= since) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return counts;
}
