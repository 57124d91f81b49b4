import { IdMap } from '../data/id-map.ts';
import { isExplicit } from '../model/index.ts';
import type { Algorithm } from '../model/types.ts';
import type { Store } from '../store/types.ts';
import type { EngineConfig } from './config.ts';
import { eventWeight } from './signals.ts';

/** Everything a training thread needs, as transferable arrays (no per-row objects). */
export interface TrainingSet {
  users: string[];
  items: string[];
  userIdx: Int32Array;
  itemIdx: Int32Array;
  values: Float32Array;
  /** Highest feedback id included: feedback after it must be folded in after the swap. */
  watermark: number;
}

/**
 * Scans the whole feedback log once and aggregates it per (user, item) the same way fold-in
 * does (see signals.ts), so a retrained profile and a folded-in one agree.
 */
export function buildTrainingSet(store: Store, config: EngineConfig, algorithm: Algorithm = config.algorithm): TrainingSet {
  const explicit = isExplicit(algorithm);
  const users = new IdMap();
  const items = new IdMap();
  const pairs = new Map<number, number>();
  let watermark = 0;
  const ITEM_KEY = 2 ** 26;
  store.forEachFeedback((row) => {
    watermark = row.id;
    if (explicit && (row.type !== 'rating' || row.value === null)) return;
    const key = users.add(row.userId) * ITEM_KEY + items.add(row.itemId);
    const w = explicit ? row.value! : eventWeight(row, config);
    pairs.set(key, explicit ? w : (pairs.get(key) ?? 0) + w);
  });
  const n = [...pairs.values()].filter((v) => v !== 0).length;
  const userIdx = new Int32Array(n);
  const itemIdx = new Int32Array(n);
  const values = new Float32Array(n);
  let t = 0;
  for (const [key, value] of pairs) {
    if (value === 0) continue;
    userIdx[t] = Math.floor(key / ITEM_KEY);
    itemIdx[t] = key % ITEM_KEY;
    values[t++] = value;
  }
  return { users: users.toArray(), items: items.toArray(), userIdx, itemIdx, values, watermark };
}
