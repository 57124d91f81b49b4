/**
 * Who gains from the profile-aware blend, and from EASE: the prequential replay (src/eval/replay.ts)
 * of ml-latest-small with movies.csv genres as item categories, for implicit-als and ease, blend
 * off and on, in every mode (static / fold-in / fold-in+retrain). Hit-rate and NDCG are reported
 * overall and by the user's history length before each event (new, 1–5, 6–20, > 20 events), with
 * coverage and the mean popularity rank of what was shown, so the blend's pull toward (or away
 * from) bestsellers is visible. Deterministic figures; ms/event moves with the machine's load.
 * A benchmark, not a test: it records numbers in bench/results/cohorts.json and asserts nothing.
 *   npx tsx bench/cohorts.ts [--algorithms implicit-als,ease] [--modes fold-in]
 */
import { join } from 'node:path';
import { movieLensMovies } from '../src/cli/import-sources.ts';
import { DEFAULT_CONFIG } from '../src/engine/config.ts';
import { REPLAY_MODES, replay, type ReplayMode, type ReplayResult } from '../src/eval/replay.ts';
import { ROOT, arg, mlSmallRows, writeResult } from './lib.ts';

const settings = { trainFraction: 0.8, k: 10, retrainEvery: 5000, windows: 10 };
const algorithms = arg('algorithms', 'implicit-als,ease').split(',');
const modes = arg('modes', REPLAY_MODES.join(',')).split(',') as ReplayMode[];
const blendOn = DEFAULT_CONFIG.blend || { historyItems: 20 };

const items = [...movieLensMovies(join(ROOT, 'data/ml-latest-small/movies.csv'))].map((row) => {
  if ('reason' in row) throw new Error(`movies.csv line ${row.line}: ${row.reason}`);
  return { itemId: row.value.itemId, categories: row.value.categories ?? [] };
});
const rows = mlSmallRows();

const results: Array<{ algorithm: string; blend: boolean; mode: ReplayMode; result: ReplayResult }> = [];
for (const algorithm of algorithms) {
  for (const mode of modes) {
    for (const blend of [false, true]) {
      const result = await replay(rows, { ...settings, mode, algorithm, items, blend: blend ? blendOn : false });
      results.push({ algorithm, blend, mode, result });
      console.log(
        `${algorithm.padEnd(13)} ${mode.padEnd(16)} blend ${blend ? 'on ' : 'off'}  hit-rate ${result.hitRate.toFixed(4)}  NDCG ${result.ndcg.toFixed(4)}  ` +
          result.cohorts.map((c) => `${c.cohort} ${c.hitRate.toFixed(4)}`).join('  ') +
          `  coverage ${result.coverage.toFixed(3)}  popularity rank ${result.popularityRank.toFixed(0)}  ${result.msPerEvent.toFixed(2)} ms/event`,
      );
    }
  }
}

// The blend's effect per algorithm and mode: relative change of each figure, on minus off.
const change = (on: number, off: number) => (off === 0 ? null : on / off - 1);
const effects = results
  .filter((r) => r.blend)
  .map(({ algorithm, mode, result: on }) => {
    const off = results.find((r) => !r.blend && r.algorithm === algorithm && r.mode === mode)!.result;
    return {
      algorithm,
      mode,
      hitRate: change(on.hitRate, off.hitRate),
      ndcg: change(on.ndcg, off.ndcg),
      cohorts: Object.fromEntries(on.cohorts.map((c, i) => [c.cohort, change(c.hitRate, off.cohorts[i].hitRate)])),
    };
  });

writeResult('cohorts', {
  method:
    'src/eval/replay.ts on data/ml-latest-small/ratings.csv with movies.csv genres as categories: the earliest 80 % of events train, the rest are ' +
    'replayed in time order, each scored (hit-rate@10, NDCG@10) before it is learned from. Cohorts by the number of events the user had before ' +
    `the event. Blend on = ${JSON.stringify(blendOn)}; flat signals (weight 1 per rating).`,
  settings: { ...settings, algorithms, modes, blend: blendOn },
  results: results.map((r) => r.result),
  effects,
});
