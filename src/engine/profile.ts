import type { FeedbackRecord, UserRecord } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import { eventWeight } from './signals.ts';
import type { Profile } from './types.ts';

const TOP_CATEGORIES = 5;

/** Who a user is, from their stored history: activity span and the categories they lean to. */
export function profileOf(user: UserRecord, events: FeedbackRecord[], catalog: Catalog, config: EngineConfig): Profile {
  const weights = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    const w = eventWeight(e, config);
    if (w <= 0) continue;
    for (const category of catalog.categories(e.itemId)) {
      weights.set(category, (weights.get(category) ?? 0) + w);
      total += w;
    }
  }
  const topCategories = [...weights]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TOP_CATEGORIES)
    .map(([category, w]) => ({ category, weight: w / total }));
  return {
    userId: user.userId,
    interactions: user.interactions,
    firstSeen: new Date(user.firstSeen).toISOString(),
    lastSeen: new Date(user.lastSeen).toISOString(),
    topCategories,
  };
}
