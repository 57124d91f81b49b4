import type { AnyFactorModel } from '../model/factor-model.ts';
import type { FeedbackRecord } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import { userSignals } from './signals.ts';

/** Enough peers for a stable mean; more only costs time. */
const MAX_PEERS = 1000;

/**
 * A starting vector for an item no model has seen: the mean vector of trained items sharing
 * its categories. It makes a new item recommendable to the right people before any feedback;
 * feedback then refines it through foldInItem.
 */
export function coldItemVector(model: AnyFactorModel, catalog: Catalog, itemId: string): Float32Array | null {
  const categories = catalog.categories(itemId);
  if (categories.length === 0) return null;
  let sum: Float32Array | null = null;
  let peers = 0;
  for (const peer of catalog.inCategories(categories)) {
    if (peer === itemId || !model.itemTrained(peer)) continue;
    const v = model.itemVector(peer);
    sum ??= new Float32Array(v.length);
    for (let f = 0; f < v.length; f++) sum[f] += v[f];
    if (++peers >= MAX_PEERS) break;
  }
  if (!sum) return null;
  for (let f = 0; f < sum.length; f++) sum[f] /= peers;
  return sum;
}

/**
 * Re-solves an untrained item's vector from everyone's feedback on it, with user vectors held
 * fixed. Each user's events on the item become one signal, exactly as in training.
 */
export function foldInItemFromFeedback(
  model: AnyFactorModel, events: FeedbackRecord[], config: EngineConfig, keepUser: (userId: string) => boolean,
): void {
  const byUser = new Map<string, FeedbackRecord[]>();
  for (const e of events) {
    if (!keepUser(e.userId) || !model.hasUser(e.userId)) continue;
    const list = byUser.get(e.userId) ?? [];
    list.push(e);
    byUser.set(e.userId, list);
  }
  const explicit = model.algorithm === 'als' || model.algorithm === 'svd';
  const interactions: Array<{ userId: string; value: number }> = [];
  for (const [userId, list] of byUser) {
    for (const s of userSignals(list, config, explicit)) interactions.push({ userId, value: s.value });
  }
  if (interactions.length > 0) model.foldInItem(events[0].itemId, interactions);
}
