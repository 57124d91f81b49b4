import { IdMap } from '../data/id-map.ts';
import { isExplicit } from '../model/index.ts';
import type { Algorithm } from '../model/types.ts';
import type { Store } from '../store/types.ts';
import type { EngineConfig } from './config.ts';
import { userSignals } from './signals.ts';

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
 * Scans the feedback log one user at a time and turns each history into signals with the very
 * function fold-in uses (signals.ts), so training and live profiles agree. Quarantined
 * (flagged) users are left out.
 */
export async function buildTrainingSet(store: Store, config: EngineConfig, algorithm: Algorithm = config.algorithm): Promise<TrainingSet> {
  const explicit = isExplicit(algorithm);
  const users = new IdMap();
  const items = new IdMap();
  const us: number[] = [];
  const is: number[] = [];
  const vs: number[] = [];
  // The highest id the scan saw: the model has learned everything up to it (the scan reads one snapshot).
  let watermark = 0;
  await store.forEachUserHistory((userId, events) => {
    for (const e of events) if (e.id > watermark) watermark = e.id;
    const signals = userSignals(events, config, explicit);
    if (signals.length === 0) return;
    const u = users.add(userId);
    for (const s of signals) {
      us.push(u);
      is.push(items.add(s.itemId));
      vs.push(s.value);
    }
  });
  return {
    users: users.toArray(),
    items: items.toArray(),
    userIdx: Int32Array.from(us),
    itemIdx: Int32Array.from(is),
    values: Float32Array.from(vs),
    watermark,
  };
}
