/**
 * Prequential replay benchmark on MovieLens small with the replay defaults: static vs fold-in
 * vs fold-in+retrain with flat signals (weight 1 per rating), then the same modes with the
 * engine's decayed signals (signals.ts: weight = stars, halved every `halfLifeDays` counted back
 * from the user's own latest rating) at the engine's 365-day half-life and a short 90-day one,
 * plus half-life 0 (star weights, no decay) to tell the star weighting from the decay itself.
 * Hit-rate and NDCG are deterministic; ms/event is wall clock and moves with the machine's load,
 * so the fold-in cost of decay is also measured in interleaved rounds (`foldInTiming`, medians)
 * and its only extra work, building the user's input with userSignals() instead of reading a
 * weight map, is timed alone over the same event sequence (`inputCost`).
 * A benchmark, not a test: it records numbers and the machine behind them in
 * bench/results/replay.json, and asserts nothing.
 *   npx tsx bench/replay.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../src/engine/config.ts';
import { userSignals } from '../src/engine/signals.ts';
import { readInteractions } from '../src/eval/readers.ts';
import { REPLAY_MODES, replay, type ReplayMode, type ReplayOptions, type ReplayResult } from '../src/eval/replay.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataset = 'data/ml-latest-small/ratings.csv';
const settings = { trainFraction: 0.8, k: 10, algorithm: 'implicit-als', retrainEvery: 5000, windows: 10 };
const HALF_LIVES = [365, 90, 0];
const TIMING_ROUNDS = 3;
const INPUT_ROUNDS = 5;

type Modes = Partial<Record<ReplayMode, ReplayResult>>;

const rows = readInteractions(root + dataset);

async function run(label: string, extra: Partial<ReplayOptions>): Promise<Modes> {
  const modes: Modes = {};
  for (const mode of REPLAY_MODES) {
    const r = (modes[mode] = await replay(rows, { ...settings, ...extra, mode }));
    console.log(
      `${label.padEnd(14)} ${mode.padEnd(16)} hit-rate@${r.k} ${r.hitRate.toFixed(4)}  NDCG@${r.k} ${r.ndcg.toFixed(4)}  ` +
        `${r.events} events  ${r.eventsPerSecond.toFixed(0)} events/s  (${r.msPerEvent.toFixed(3)} ms/event, ${r.retrains} retrains)`,
    );
  }
  return modes;
}

const modes = await run('flat', {});
const decay = [];
for (const halfLifeDays of HALF_LIVES) {
  decay.push({ halfLifeDays, modes: await run(halfLifeDays === 0 ? 'stars, no decay' : `decay ${halfLifeDays} d`, { signals: 'decay', halfLifeDays }) });
}

console.log('\nvs flat (relative change of hit-rate / NDCG; ms/event flat → decay)');
for (const { halfLifeDays, modes: d } of decay) {
  for (const mode of REPLAY_MODES) {
    const f = modes[mode]!, r = d[mode]!;
    console.log(
      `  half-life ${String(halfLifeDays).padStart(3)} d  ${mode.padEnd(16)} hit-rate ${pct(r.hitRate, f.hitRate)}  NDCG ${pct(r.ndcg, f.ndcg)}  ` +
        `${f.msPerEvent.toFixed(3)} → ${r.msPerEvent.toFixed(3)} ms/event`,
    );
  }
}

// Fold-in cost, flat vs decay (365 d), in interleaved rounds so load drifts hit both alike.
const rounds: Record<'flat' | 'decay', number[]> = { flat: [], decay: [] };
for (let round = 0; round < TIMING_ROUNDS; round++) {
  rounds.flat.push((await replay(rows, { ...settings, mode: 'fold-in' })).msPerEvent);
  rounds.decay.push((await replay(rows, { ...settings, mode: 'fold-in', signals: 'decay', halfLifeDays: 365 })).msPerEvent);
}
const foldInTiming = {
  rounds: TIMING_ROUNDS,
  flatMsPerEvent: rounds.flat,
  decayMsPerEvent: rounds.decay,
  flatMedian: median(rounds.flat),
  decayMedian: median(rounds.decay),
  decayOverFlat: median(rounds.decay) / median(rounds.flat),
};
console.log(
  `\nfold-in ms/event over ${TIMING_ROUNDS} interleaved rounds (median): flat ${foldInTiming.flatMedian.toFixed(3)}, ` +
    `decay ${foldInTiming.decayMedian.toFixed(3)} (×${foldInTiming.decayOverFlat.toFixed(2)})`,
);
const inputCost = timeInputs();
console.log(
  `history → model input per test event (median of ${INPUT_ROUNDS}): flat ${inputCost.flatMicros.toFixed(2)} µs, ` +
    `decay ${inputCost.decayMicros.toFixed(2)} µs (mean history ${inputCost.meanHistory.toFixed(0)} events)`,
);

const cpuList = cpus();
const result = {
  machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', node: process.version, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
  date: new Date().toISOString(),
  dataset,
  // The model's params after defaults are in every mode's `params`; these are the replay's.
  params: { ...settings, modelParams: modes.static!.params },
  // Flat signals: weight 1 per rating, as before decay runs were added.
  modes,
  // The engine's signals (src/engine/signals.ts) with the rating half-life set to `halfLifeDays`
  // (0 = no decay: star weights only); every result also records its `decayFloor`.
  decay,
  foldInTiming,
  inputCost,
};
mkdirSync(root + 'bench/results', { recursive: true });
writeFileSync(root + 'bench/results/replay.json', JSON.stringify(result, null, 2) + '\n');
console.log('wrote bench/results/replay.json');

/**
 * The per-event work decay adds to fold-in, alone: the replay's history bookkeeping walked in
 * time order, recording each event and, for every test event, building the user's whole input
 * as flat does (weight map → array) or as decay does (userSignals over the user's events so
 * far). Each walk is timed whole; µs per test event.
 */
function timeInputs(): { flatMicros: number; decayMicros: number; meanHistory: number; events: number } {
  const config = resolveConfig({ signals: { rating: { halfLifeDays: 365 } } });
  const events = [...rows].sort((a, b) => a.timestamp - b.timestamp);
  const trainCount = Math.round(events.length * settings.trainFraction);
  const testCount = events.length - trainCount;
  let sink = 0;
  let historySum = 0;
  const flat: number[] = [];
  const decayed: number[] = [];
  for (let round = 0; round < INPUT_ROUNDS; round++) {
    let start = performance.now();
    const maps = new Map<string, Map<string, number>>();
    for (let t = 0; t < events.length; t++) {
      const e = events[t];
      let map = maps.get(e.user);
      if (!map) maps.set(e.user, (map = new Map()));
      map.set(e.item, (map.get(e.item) ?? 0) + 1);
      if (t >= trainCount) sink += Array.from(map, ([itemId, value]) => ({ itemId, value })).length;
    }
    flat.push(((performance.now() - start) * 1000) / testCount);
    start = performance.now();
    const lists = new Map<string, Array<{ itemId: string; type: 'rating'; value: number; timestamp: number }>>();
    historySum = 0;
    for (let t = 0; t < events.length; t++) {
      const e = events[t];
      let list = lists.get(e.user);
      if (!list) lists.set(e.user, (list = []));
      list.push({ itemId: e.item, type: 'rating', value: e.value, timestamp: e.timestamp });
      if (t >= trainCount) {
        sink += userSignals(list, config, false).length;
        historySum += list.length;
      }
    }
    decayed.push(((performance.now() - start) * 1000) / testCount);
  }
  if (sink < 0) console.log(sink);
  return { flatMicros: median(flat), decayMicros: median(decayed), meanHistory: historySum / testCount, events: testCount };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function pct(value: number, base: number): string {
  if (base === 0) return 'n/a';
  const p = (value / base - 1) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`.padStart(7);
}
