import type { Ranked } from './item-index.ts';

/**
 * How deep to search, and when to give up on the index. A search returns exact scores for the
 * items it looked at, so the only risks are missing a good item (recall, set by how many lists
 * are scanned) and coming up short when a filter rejects candidates (handled here by searching
 * deeper, then by the caller's exact scan).
 */

/**
 * Cap on the share of lists scanned for a top-10 (the bound skips most of them): set by
 * bench/ann.ts, recall@10 ≥ 0.99 on 1M items. Similar items scan gathered rows by cosine, which
 * the bounds prune less: they get a smaller cap.
 */
export const PROBE_SHARE = 0.1;
export const SIMILAR_PROBE_SHARE = 0.03;
/** Never fewer lists than this: small catalogs have few lists, each a coarse cell. */
const MIN_PROBES = 24;
/** A filtered search starts this many times deeper than asked (a filter keeps about 1 item in 4). */
const FILTER_DEPTH = 4;
/** A retry searches deep enough for twice the items the first search's pass rate says are needed. */
const MARGIN = 2;
/** Deepest search, as a share of the items: past it the full scan costs about as much. */
const MAX_DEPTH_SHARE = 0.02;
/** Retries before the exact scan answers instead. */
const MAX_RETRIES = 2;

/** Lists to probe for a list `depth` long out of `lists`: deeper lists need more of the catalog looked at. */
export function probesFor(lists: number, depth: number, share = PROBE_SHARE): number {
  const base = Math.max(MIN_PROBES, Math.ceil(lists * share));
  return Math.min(lists, Math.ceil(base * Math.max(1, Math.sqrt(depth / 10))));
}

/**
 * The best `n` of what `search(depth, probes)` finds that `allowed` accepts (all when null), best
 * first, out of `items` items, scanning at most `share` of the lists for a top-10; null when
 * even the deepest search leaves fewer than `n`: the caller then scans exactly, so a filtered
 * list is never short.
 */
export function approximateTop(
  search: (depth: number, probes: number) => Ranked, n: number, allowed: ((item: number) => boolean) | null, lists: number, items: number,
  share = PROBE_SHARE,
): Ranked | null {
  const maxDepth = Math.max(n * FILTER_DEPTH, Math.ceil(items * MAX_DEPTH_SHARE));
  let depth = allowed ? n * FILTER_DEPTH : n;
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
    const found = search(depth, probesFor(lists, depth, share));
    const kept = allowed ? keep(found, allowed, n) : { items: found.items.subarray(0, n), scores: found.scores.subarray(0, n) };
    if (kept.items.length >= n) return kept;
    // Fewer than asked: exclusions emptied the lists looked at, or the filter passes few items.
    const passRate = Math.max(kept.items.length, 1) / Math.max(found.items.length, 1);
    const next = Math.ceil((n / passRate) * MARGIN);
    if (depth >= maxDepth) return null;
    depth = Math.min(maxDepth, Math.max(next, depth * 2));
  }
  return null;
}

function keep(found: Ranked, allowed: (item: number) => boolean, n: number): Ranked {
  const items: number[] = [];
  const scores: number[] = [];
  for (let t = 0; t < found.items.length && items.length < n; t++) {
    if (!allowed(found.items[t])) continue;
    items.push(found.items[t]);
    scores.push(found.scores[t]);
  }
  return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
}
