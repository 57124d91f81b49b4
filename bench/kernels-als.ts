/**
 * ALS kernel benchmark: wall time of `fit` on MovieLens ml-latest-small for explicit ALS and
 * implicit ALS (exact Cholesky and the default CG), single-threaded, default parameters
 * (k = 64, 15 iterations). Median of `--runs` (default 5) after one warm-up fit, as wall time and
 * as process CPU time (steadier on a shared machine); prints JSON.
 * A training RMSE (explicit) and the RMS score over observed pairs (implicit) come along so a speed-up that
 * changed the numbers would show.
 *
 *   npm run build:wasm && npx tsx bench/kernels-als.ts [--runs 5] [--data path/to/ratings.csv]
 */
import { readInteractions } from '../src/eval/readers.ts';
import { Interactions } from '../src/data/interactions.ts';
import { createModel } from '../src/model/index.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const runs = Number(arg('runs', '5'));
const path = arg('data', 'data/ml-latest-small/ratings.csv');

const rows = readInteractions(path);
const data = Interactions.from(rows.map((r) => ({ userId: r.user, itemId: r.item, value: r.value })));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

type Model = ReturnType<typeof createModel>;

/** Training RMSE over (a sample of) the ratings: a cheap "same numbers?" check. */
function trainRmse(model: Model): number {
  let se = 0;
  let n = 0;
  for (let t = 0; t < rows.length; t += 7) {
    const d = model.predict(rows[t].user, rows[t].item) - rows[t].value;
    se += d * d;
    n++;
  }
  return Math.sqrt(se / n);
}

/**
 * RMS of the scores x_u·y_i over (a sample of) the observed pairs: factors are only determined up
 * to a rotation, scores are not, so this is comparable across builds.
 */
function scoreRms(model: Model): number {
  let s = 0;
  let n = 0;
  for (let t = 0; t < rows.length; t += 7) {
    const p = model.predict(rows[t].user, rows[t].item);
    s += p * p;
    n++;
  }
  return Math.sqrt(s / n);
}

const cases: Array<{ name: string; algorithm: string; params: Record<string, unknown>; check: (m: Model) => number }> = [
  { name: 'als', algorithm: 'als', params: {}, check: trainRmse },
  { name: 'implicit-als cholesky (cgSteps 0)', algorithm: 'implicit-als', params: { cgSteps: 0 }, check: scoreRms },
  { name: 'implicit-als cg (cgSteps 3)', algorithm: 'implicit-als', params: {}, check: scoreRms },
];

const results = [];
for (const c of cases) {
  createModel(c.algorithm, c.params).fit(data); // warm-up: compile tiers, page in memory
  const times: number[] = [];
  const cpu: number[] = [];
  let model!: Model;
  for (let i = 0; i < runs; i++) {
    model = createModel(c.algorithm, c.params);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    model.fit(data);
    times.push(performance.now() - t0);
    const dc = process.cpuUsage(c0);
    cpu.push((dc.user + dc.system) / 1000);
  }
  results.push({
    case: c.name,
    medianMs: Math.round(median(times)),
    runsMs: times.map(Math.round),
    // Process CPU time: steadier than wall time when other work shares the machine.
    medianCpuMs: Math.round(median(cpu)),
    check: Number(c.check(model).toFixed(6)),
  });
}

console.log(
  JSON.stringify(
    { data: path, ratings: data.size, users: data.users.size, items: data.items.size, node: process.version, results },
    null,
    2,
  ),
);
