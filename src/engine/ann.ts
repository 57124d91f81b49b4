import { availableParallelism } from 'node:os';
import type { Recommender } from '../model/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';

/**
 * Which serving models carry an approximate top-N index (LatentFactors.buildIndex) and which
 * items it leaves out. The index is built on the training thread with the model; the serving
 * thread only drops one the config does not want and keeps retirements current.
 */

/** Catalog size from which `ann: 'auto'` builds the index: below it a full scan costs about a millisecond. */
export const ANN_MIN_ITEMS = 50_000;

/** Whether a model over `items` items should answer from an index. */
export function wantsIndex(ann: EngineConfig['ann'], items: number): boolean {
  return ann === 'on' || (ann === 'auto' && items >= ANN_MIN_ITEMS);
}

/**
 * On the training thread: builds the index the config asks for (tens of seconds per million items),
 * with the catalog's retired items left out of it. True when the model changed.
 */
export async function buildWantedIndex(model: Recommender, catalog: Catalog, ann: EngineConfig['ann']): Promise<boolean> {
  const latent = model.latent;
  if (!latent || latent.indexed || !wantsIndex(ann, model.itemCount)) return false;
  // Every core: the build runs between fits, when the training thread's other workers are idle.
  await latent.buildIndex({ seed: Number(model.params.seed ?? 42), threads: availableParallelism() });
  for (const itemId of catalog.retired()) latent.setItemRetired(itemId, true);
  return true;
}

/**
 * At a swap, on the serving thread: drops an index the config does not want (a model saved under
 * another setting) and brings `items` (those the catalog changed since the index was built) up to date.
 */
export function settleIndex(model: Recommender, catalog: Catalog, ann: EngineConfig['ann'], items: Iterable<string>): void {
  const latent = model.latent;
  if (!latent?.indexed) return;
  if (!wantsIndex(ann, model.itemCount)) {
    latent.dropIndex();
    return;
  }
  for (const itemId of items) latent.setItemRetired(itemId, catalog.isRetired(itemId));
}
