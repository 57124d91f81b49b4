import type { UserInteraction } from '../model/types.ts';
import type { FeedbackInput } from '../store/types.ts';
import type { EngineConfig } from './config.ts';

/**
 * Turns raw feedback events into what a model learns from. Explicit models see only ratings
 * (the latest per item); implicit models see every event as a weight, summed per item.
 */
export function eventWeight(event: Pick<FeedbackInput, 'type' | 'value'>, config: EngineConfig): number {
  if (event.type === 'rating') return event.value ?? 0;
  return config.weights[event.type];
}

/** One user's events → their history as a model sees it (ordered by time on input). */
export function userSignals(events: Iterable<Pick<FeedbackInput, 'itemId' | 'type' | 'value'>>, config: EngineConfig, explicit: boolean): UserInteraction[] {
  const byItem = new Map<string, number>();
  for (const e of events) {
    if (explicit) {
      if (e.type === 'rating' && e.value !== null) byItem.set(e.itemId, e.value);
    } else {
      byItem.set(e.itemId, (byItem.get(e.itemId) ?? 0) + eventWeight(e, config));
    }
  }
  const out: UserInteraction[] = [];
  // A pair whose events cancel out carries no signal either way.
  for (const [itemId, value] of byItem) if (value !== 0) out.push({ itemId, value });
  return out;
}
