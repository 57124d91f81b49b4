/**
 * Prequential replay benchmark: static vs fold-in vs fold-in+retrain on MovieLens small with
 * the replay defaults. A benchmark, not a test: it records numbers and the machine behind them
 * in bench/results/replay.json, and asserts nothing.
 *   npx tsx bench/replay.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readInteractions } from '../src/eval/readers.ts';
import { REPLAY_MODES, replay, type ReplayMode, type ReplayResult } from '../src/eval/replay.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataset = 'data/ml-latest-small/ratings.csv';
const settings = { trainFraction: 0.8, k: 10, algorithm: 'implicit-als', retrainEvery: 5000, windows: 10 };

const rows = readInteractions(root + dataset);
const modes: Partial<Record<ReplayMode, ReplayResult>> = {};
for (const mode of REPLAY_MODES) {
  const r = (modes[mode] = replay(rows, { ...settings, mode }));
  console.log(
    `${mode.padEnd(16)} hit-rate@${r.k} ${r.hitRate.toFixed(4)}  NDCG@${r.k} ${r.ndcg.toFixed(4)}  ` +
      `${r.events} events  ${r.eventsPerSecond.toFixed(0)} events/s  (${r.msPerEvent.toFixed(3)} ms/event, ${r.retrains} retrains)`,
  );
}

const cpuList = cpus();
const result = {
  machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', node: process.version },
  date: new Date().toISOString(),
  dataset,
  // The model's params after defaults are in every mode's `params`; these are the replay's.
  params: { ...settings, modelParams: modes.static!.params },
  modes,
};
mkdirSync(root + 'bench/results', { recursive: true });
writeFileSync(root + 'bench/results/replay.json', JSON.stringify(result, null, 2) + '\n');
console.log('wrote bench/results/replay.json');
