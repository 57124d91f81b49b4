/**
 * Regenerates the README's benchmark section — only the text between `<!-- bench:start -->` and
 * `<!-- bench:end -->` — as Markdown tables built from every bench/results/*.json (the speed
 * benchmarks, plus replay.json, accuracy.json and any other result file present). README.md is
 * created holding just the markers when it does not exist; the rest of the README is never touched.
 *
 *   npx tsx bench/report.ts            rewrite README.md
 *   npx tsx bench/report.ts --quick    print the report of bench/results/quick/ instead
 *   npx tsx bench/report.ts --stdout   print the full-run report without writing
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, isQuick, resultsDir } from './lib.ts';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

// ---- formatting ----

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** A duration in seconds, in the unit that reads best. */
function secs(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${(s * 1e6).toPrecision(3)} µs`;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : secs(v / 1000));
const ratio = (r: number) => `${r >= 10 ? r.toFixed(0) : r.toFixed(r >= 1 ? 1 : 2)}×`;

function bytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${(b / 2 ** 10).toFixed(0)} KiB`;
}

/** Columns whose cells all read as numbers are right-aligned, the rest left. */
function table(headers: string[], rows: Array<Array<string | number>>): string {
  const numeric = (c: string | number) => typeof c === 'number' || /^(\*\*)?[-+≈(]?\s?[\d.,]+/.test(c) || c === '–';
  const sep = headers.map((_, i) => (rows.length > 0 && rows.every((r) => numeric(r[i])) ? '---:' : '---')).join('|');
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), `|${sep}|`, ...rows.map(line)].join('\n');
}

function machineLine(file: Json): string {
  const m = file.machine ?? {};
  const parts = [
    m.cpus !== undefined && `${m.cpus} × ${m.cpuModel ?? 'CPU'}`,
    m.totalMemoryBytes && `${bytes(m.totalMemoryBytes)} RAM`,
    m.node && `Node ${m.node}`,
    m.platform && `${m.platform} ${m.arch ?? ''}`.trim(),
    m.loadAverage && `load average ${m.loadAverage.join(' / ')} when written`,
  ].filter(Boolean);
  const date = file.date ? file.date.slice(0, 16).replace('T', ' ') + ' UTC' : 'undated';
  return `<sub>${date} · ${parts.join(' · ')}${file.quick ? ' · **quick run**' : ''}</sub>`;
}

function header(title: string, file: Json): string {
  const method = typeof file.method === 'string' ? `\n\n${file.method}` : '';
  return `### ${title}\n\n${machineLine(file)}${method}\n`;
}

// ---- sections ----

function fitSection(f: Json): string {
  const all = f.results as Json[];
  const single = (r: Json) => all.find((o) => o.dataset === r.dataset && o.algorithm === r.algorithm && o.threads === 1);
  const rows = all.map((r) => [
    r.dataset,
    r.algorithm,
    `${int(r.users)} × ${int(r.items)}`,
    int(r.interactions),
    `k=${r.params.factors ?? r.params.neighbors ?? '–'}${r.iterations ? `, ${r.iterations} it` : ''}`,
    r.threads,
    `${secs(r.medianSeconds)}${r.estimatedDefaultFitSeconds ? ` (est. ${secs(r.estimatedDefaultFitSeconds)} at ${r.defaultIterations} it)` : ''}`,
    r.marginalIterationSeconds !== undefined
      ? `${secs(r.marginalIterationSeconds)} marginal + ${secs(r.setupSeconds)} setup`
      : secs(r.perIterationSeconds),
    r.threads > 1 && single(r) ? ratio(single(r)!.medianSeconds / r.medianSeconds) : '–',
    r.runsSeconds.length,
  ]);
  const p = f.perIteration ?? {};
  const per =
    p.implicitAlsIterationSeconds !== undefined
      ? `\n\nPer iteration at k = 64 on ${p.dataset}: implicit-ALS iteration (user + item half-sweep) **${secs(p.implicitAlsIterationSeconds)}**, ` +
        `SGD epoch **${secs(p.sgdEpochSeconds)}**` +
        (p.implicitAlsIterationSeconds10M ? `; at 10M: ${secs(p.implicitAlsIterationSeconds10M)} and ${secs(p.sgdEpochSeconds10M)}.` : '.')
      : '';
  return (
    header('Fit time', f) +
    '\n' +
    table(['dataset', 'algorithm', 'users × items', 'interactions', 'params', 'threads', 'fit (median)', 'per iteration', 'speed-up vs 1 thread', 'runs'], rows) +
    per
  );
}

function kernelsSection(f: Json): string {
  const rows = (f.results as Json[]).map((r) => [
    r.kernel,
    r.size,
    secs(r.wasm.median),
    secs(r.reference.median),
    `**${ratio(r.speedup)}**`,
    r.maxAbsDiff === undefined ? '–' : r.maxAbsDiff.toExponential(1),
  ]);
  return header('WebAssembly kernels vs plain-TypeScript reference', f) + '\n' + table(['kernel', 'size', 'WASM', 'TypeScript', 'speed-up', 'max abs diff'], rows);
}

function foldinSection(f: Json): string {
  const rows = (f.results as Json[]).map((r) => [
    int(r.items),
    r.historyItems,
    ms(r.totalMs.p50),
    ms(r.totalMs.p90),
    `**${ms(r.totalMs.p99)}**`,
    ms(r.totalMs.max),
    ms(r.foldInMs.p50),
    ms(r.recommendMs.p50),
    r.calls,
  ]);
  return (
    header('Fold-in + top-10 latency', f) +
    '\n' +
    table(['catalog items', 'history items', 'p50', 'p90', 'p99', 'max', 'fold-in p50', 'top-10 p50', 'calls'], rows)
  );
}

function annSection(f: Json): string {
  const r = f.results;
  const s = r.served;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const targets = table(['measure', 'approximate', 'exact', 'target'], [
    ['recall@10', `**${s.recallAt10.toFixed(3)}**`, '1', '≥ 0.95'],
    ['recall@10, one category of 20', `**${s.recallAt10Category.toFixed(3)}**`, '1', '≥ 0.90'],
    ['similar items recall@10', s.similarRecallAt10.toFixed(3), '1', '–'],
    ['recommend p50 / p99', `${ms(s.recommendMs.ann.p50)} / **${ms(s.recommendMs.ann.p99)}**`, `${ms(s.recommendMs.exact.p50)} / ${ms(s.recommendMs.exact.p99)}`, 'p99 ≤ 4 ms'],
    ['recommend, one category, p50 / p99', `${ms(s.recommendMs.annCategory.p50)} / ${ms(s.recommendMs.annCategory.p99)}`, `${ms(s.recommendMs.exactCategory.p50)} / ${ms(s.recommendMs.exactCategory.p99)}`, '–'],
    ['similar items p50 / p99', `${ms(s.similarMs.p50)} / ${ms(s.similarMs.p99)}`, '–', '–'],
    ['fold-in + recommend (live feedback) p50 / p99', `${ms(s.foldInAndRecommendMs.p50)} / **${ms(s.foldInAndRecommendMs.p99)}**`, '–', 'p99 ≤ 10 ms'],
    ['index memory / item vectors', `**${pct(s.indexBytesPerRawVectors)}** (${bytes(s.indexBytes)})`, '–', '≤ 200 %'],
    ['index build (both indexes, 2 threads)', `**${secs(s.buildSeconds)}**`, '–', '≤ 2 min'],
  ]);
  const rows: Array<Array<string | number>> = [];
  for (const [data, d] of [['MovieLens', r.movielensFactors], ['synthetic', r.syntheticFactors]] as Array<[string, Json]>) {
    if (!d) continue;
    for (const v of d.variants as Json[]) {
      for (const p of v.sweep as Json[]) {
        rows.push([`${data} (${int(d.items)})`, v.index, v.lists, secs(v.buildSeconds), pct(v.bytesPerRawVectors), p.probes, p.recallAt10.toFixed(3), ms(p.queryMs.p50), ms(p.queryMs.p99)]);
      }
    }
    for (const u of (d.usearch ?? []) as Json[]) {
      if (u.skipped) continue;
      rows.push([`${data} (${int(d.items)})`, u.index, '–', secs(u.buildSeconds), pct(u.bytesPerRawVectors), `ef ${u.expansionSearch}`, u.recallAt10.toFixed(3), ms(u.queryMs.p50), ms(u.queryMs.p99)]);
    }
  }
  const comparison = table(['factors', 'index', 'lists', 'build', 'memory / vectors', 'probes (cap)', 'recall@10', 'p50', 'p99'], rows);
  return `${header(`Approximate top-N, ${int(f.items)} items`, f)}
${targets}

Index comparison:

${comparison}`;
}

function httpSection(f: Json): string {
  const res = f.results;
  const rows = (res.routes as Json[]).map((r) => [
    r.name ?? r.route,
    `**${int(r.requestsPerSecond)}**`,
    (r.requestsPerSecondByRound as number[] | undefined)?.map(int).join(', ') ?? '–',
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    `**${ratio(r.ratioToHelloWorld)}**` + (r.ratioToHelloWorldByRound ? ` (${(r.ratioToHelloWorldByRound as number[]).map((x) => x.toFixed(2)).join(', ')})` : ''),
    r.serverCpuMicrosPerRequest !== undefined ? `${r.serverCpuMicrosPerRequest.toFixed(0)} µs` : '–',
    r.loadAverage1m ? `${r.loadAverage1m.min.toFixed(1)}–${r.loadAverage1m.max.toFixed(1)}` : '–',
    r.non2xx || r.errors ? `${r.non2xx} non-2xx, ${r.errors} errors` : '–',
  ]);
  const s = res.serverSideAddFeedbackMs;
  const server = s?.count
    ? `\n\nServer-side time in \`engine.addFeedback\` per POST (store write + fold-in + top-10), ${int(s.count)} calls: ` +
      `p50 **${ms(s.p50)}**, p90 ${ms(s.p90)}, p99 **${ms(s.p99)}**, max ${ms(s.max)}.`
    : '';
  const imports = (res.import as Json[] | undefined) ?? [];
  const importTable = imports.length
    ? '\n\nImport through the Store (`store.addFeedback`, batches of 10,000):\n\n' +
      table(['dataset', 'events', 'seconds', 'events/s'], imports.map((r) => [r.dataset, int(r.events), r.storeSeconds.toFixed(2), `**${int(r.eventsPerSecond)}**`]))
    : '';
  const columns = ['route', 'req/s', 'by round', 'p50', 'p99', 'vs hello world (by round)', 'server CPU / request', 'load (1 min)', 'failures'];
  return header('HTTP throughput', f) + '\n' + table(columns, rows) + server + importTable;
}

function memorySection(f: Json): string {
  const rows = (f.results as Json[]).map((r) => [
    r.dataset,
    `${int(r.users)} × ${int(r.items)}`,
    int(r.interactions),
    bytes(r.rawBytes.total),
    bytes(r.bytes.start.rss),
    bytes(r.bytes.loaded.rss),
    bytes(r.bytes.fitted.rss),
    `**${ratio(r.rssRatio.fitted)}**`,
    ratio(r.rssRatio.fittedAboveStart),
  ]);
  return (
    header('Memory', f) +
    '\n' +
    table(['dataset', 'users × items', 'interactions', 'raw bytes', 'RSS start', 'RSS loaded', 'RSS fitted', 'RSS / raw', '(RSS − start) / raw'], rows)
  );
}

function retrainSection(f: Json): string {
  const rows = (f.results as Json[]).map((r) => [
    r.dataset,
    `${int(r.users)} × ${int(r.items)}`,
    int(r.interactions),
    r.threads,
    secs(r.medianSeconds),
    `${secs(r.readSeconds)} + ${secs(r.fitSeconds)}`,
    r.threads > 1 ? ratio(r.speedup) : '–',
    `${r.eventLoopDelayMs.p99.toFixed(1)} ms / ${r.eventLoopDelayMs.max.toFixed(1)} ms`,
  ]);
  return `${header('Retrain, as the server runs it', f)}\n${table(
    ['data', 'users × items', 'interactions', 'threads', 'request → serving (median)', 'read log + fit (training thread, last run)', 'speed-up', 'event-loop delay p99 / max'],
    rows,
  )}`;
}

function scaleSection(f: Json): string {
  const { import: imp, train, serve } = f.results as Json;
  const { users, items, events } = f.dataset as Json;
  const load = (step: Json) => `${step.loadAverage1m.min.toFixed(1)}–${step.loadAverage1m.max.toFixed(1)}`;
  const cpu = (step: Json) => (step.cpuSeconds === null ? '–' : secs(step.cpuSeconds));
  const verdict = (holds: boolean) => (holds ? 'holds' : '**misses**');
  const rows = [
    ['`liverec import`', secs(imp.wallSeconds), cpu(imp), `${int(imp.eventsPerSecond)} events/s`, bytes(imp.peakRssBytes), load(imp), `≤ ${f.targets.importSeconds} s: ${verdict(imp.holds)}`],
    ['`liverec train` (implicit ALS, k 64, 2 threads)', secs(train.wallSeconds), cpu(train), `read log ${secs(train.readSeconds)}, fit ${secs(train.fitSeconds)}`, bytes(train.peakRssBytes), load(train), `≤ ${f.targets.trainSeconds} s: ${verdict(train.holds)}`],
    ['`liverec serve`', secs(serve.startSeconds), '–', `RSS ${bytes(serve.rssBytes)} = ${ratio(serve.rssOverRaw)} raw ${bytes(serve.rawBytes.total)}; p50 ${serve.latencyMs.p50.toFixed(1)} ms`, bytes(serve.peakRssBytes), serve.loadAverage[0].toFixed(1), 'reported'],
  ];
  return `${header(`Scale: ${int(events)} events, ${int(users)} users × ${int(items)} items`, f)}
${table(
    ['step', 'wall', 'CPU (all threads)', 'rate / detail', 'peak RSS', '1-min load', 'target'],
    rows,
  )}`;
}

function replaySection(f: Json): string {
  const modes = Object.values(f.modes ?? {}) as Json[];
  const k = modes[0]?.k ?? f.params?.k ?? 10;
  const rows = modes.map((m) => [
    m.mode,
    m.hitRate.toFixed(4),
    m.ndcg.toFixed(4),
    int(m.events),
    int(m.eventsPerSecond),
    m.msPerEvent.toFixed(3),
    m.retrains,
  ]);
  const p = f.params ?? {};
  const settings = Object.entries(p)
    .filter(([, v]) => typeof v !== 'object')
    .map(([key, v]) => `${key} ${v}`)
    .join(', ');
  return (
    `### Prequential replay: static vs fold-in\n\n${machineLine(f)}\n\n` +
    `${f.dataset ?? ''}${settings ? ` — ${settings}` : ''} (from bench/replay.ts).\n\n` +
    table(['mode', `hit-rate@${k}`, `NDCG@${k}`, 'events', 'events/s', 'ms/event', 'retrains'], rows) +
    decayTable(f, k)
  );
}

/** Time decay vs flat weights, mode by mode, and what decay costs per fold-in. */
function decayTable(f: Json, k: number): string {
  const runs = (f.decay ?? []) as Json[];
  if (runs.length === 0) return '';
  const change = (x: number, base: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(1)} %`;
  const rows: Array<Array<string | number>> = [];
  for (const mode of Object.keys(f.modes ?? {})) {
    const flat = f.modes[mode] as Json;
    rows.push([mode, 'flat (1 per rating)', flat.hitRate.toFixed(4), '–', flat.ndcg.toFixed(4), '–']);
    for (const run of runs) {
      const r = run.modes?.[mode] as Json | undefined;
      if (!r) continue;
      const label = run.halfLifeDays === 0 ? 'stars, no decay' : `stars, half-life ${run.halfLifeDays} d`;
      rows.push([mode, label, r.hitRate.toFixed(4), change(r.hitRate, flat.hitRate), r.ndcg.toFixed(4), change(r.ndcg, flat.ndcg)]);
    }
  }
  const t = f.foldInTiming as Json | undefined;
  const c = f.inputCost as Json | undefined;
  const cost = [
    t ? `fold-in mode ${t.flatMedian.toFixed(3)} → ${t.decayMedian.toFixed(3)} ms/event with decay (median of ${t.rounds} interleaved rounds, ×${t.decayOverFlat.toFixed(2)})` : '',
    c ? `building the decayed input alone costs ${c.decayMicros.toFixed(0)} µs vs ${c.flatMicros.toFixed(0)} µs per event (mean history ${c.meanHistory.toFixed(0)} events)` : '',
  ].filter((x) => x !== '');
  return (
    `\n\nTime decay (engine signals: weight = stars, decayed from the user's own latest event, floor 10 %) vs flat weights, same replay:\n\n` +
    table(['mode', 'signals', `hit-rate@${k}`, 'vs flat', `NDCG@${k}`, 'vs flat'], rows) +
    (cost.length > 0 ? `\n\nCost of decay: ${cost.join('; ')}.` : '')
  );
}

function runSection(f: Json): string {
  const rows = (f.results as Json[]).map((r) => [
    r.script,
    r.ok ? 'ok' : `**failed** (exit ${r.exitCode})`,
    `${r.seconds.toFixed(0)} s`,
    `${r.loadAverage1m.min.toFixed(2)}–${r.loadAverage1m.max.toFixed(2)} (mean ${r.loadAverage1m.mean.toFixed(2)})`,
  ]);
  return `### Run\n\n${machineLine(f)}\n\n` + table(['script', 'status', 'wall time', '1-min load average while running'], rows);
}

// ---- anything else: tables from arrays of flat objects / maps of flat objects ----

/** Long per-round listings are cut here; the JSON file has them all. */
const MAX_GENERIC_ROWS = 10;
const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? int(v) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : String(v ?? '–'));

function genericTables(value: unknown, title: string, depth = 0): string[] {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  const entries: Array<[string, Json]> = Array.isArray(value)
    ? value.filter((v) => v && typeof v === 'object' && !Array.isArray(v)).map((v, i) => [String(i), v])
    : Object.entries(value as Json).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
  const flat = entries.filter(([, v]) => Object.values(v).filter(scalar).length >= 2);
  const out: string[] = [];
  if (flat.length >= 2 || (Array.isArray(value) && flat.length >= 1)) {
    const columns = [...new Set(flat.flatMap(([, v]) => Object.keys(v).filter((c) => scalar(v[c]))))].slice(0, 10);
    const keyed = !Array.isArray(value);
    const shown = flat.slice(0, MAX_GENERIC_ROWS);
    const more = flat.length - shown.length;
    out.push(
      `**${title}**\n\n` +
        table(
          [...(keyed ? [''] : []), ...columns],
          shown.map(([key, v]) => [...(keyed ? [key] : []), ...columns.map((c) => cell(v[c]))]),
        ) +
        (more > 0 ? `\n\n_${more} more rows in the JSON file._` : ''),
    );
  }
  for (const [key, v] of Object.entries(value as Json)) {
    if (v && typeof v === 'object' && !flat.some(([k]) => k === key)) out.push(...genericTables(v, `${title} › ${key}`, depth + 1));
  }
  return out;
}

function genericSection(name: string, f: Json): string {
  const tables = genericTables(f.results ?? f, name);
  const method = typeof f.method === 'string' ? `\n\n${f.method}` : '';
  return `### ${name}\n\n${f.machine ? machineLine(f) : ''}${method}\n\n${tables.length ? tables.join('\n\n') : '_(no tabular data)_'}`;
}

/** Every algorithm's accuracy beside what its lists lean on: coverage and the mean popularity rank of what it shows. */
function accuracySection(f: Json): string {
  const rows = (f.results as Json[]).map((m) => [
    m.protocol,
    m.algorithm,
    m.rmse === null ? '–' : m.rmse.toFixed(4),
    m.precision.toFixed(4),
    m.recall.toFixed(4),
    m.ndcg.toFixed(4),
    m.map.toFixed(4),
    m.hit_rate.toFixed(4),
    m.coverage.toFixed(4),
    Number.isFinite(m.novelty) ? m.novelty.toFixed(0) : '–',
    secs(m.fit_seconds),
  ]);
  return (
    `### Accuracy\n\n${machineLine(f)}\n\n${f.dataset}: ${f.method}. k = 10. Coverage: share of the catalog shown to anyone; ` +
    'popularity rank: mean rank by training popularity of the items shown (1 = the most popular; higher = further into the long tail).\n\n' +
    table(['protocol', 'algorithm', 'rmse', 'precision', 'recall', 'ndcg', 'map', 'hit rate', 'coverage', 'popularity rank', 'fit'], rows)
  );
}

/** EASE: λ chosen on validation, then fit time and memory by catalog size, through the items or the users (bench/ease.ts). */
function easeSection(f: Json): string {
  const chosen = f.accuracy?.chosenOnValidation;
  const lambdas = chosen ? (chosen.validation as Json[]).map((v) => `${v.lambda}: ${v.ndcg.toFixed(4)}`).join(', ') : '';
  const test = chosen?.test;
  const rows = [...(f.results as Json[]), ...((f.fewerUsers?.results ?? []) as Json[])].map((r) => {
    const fit = (r.fits as Json[]).at(-1)!;
    return [
      r.path === 'users' ? 'users (Woodbury)' : 'items',
      int(r.items),
      int(r.users),
      int(r.pairs),
      `${fit.threads}`,
      secs(fit.seconds),
      secs(fit.gramSeconds),
      secs(fit.sweepSeconds),
      bytes(r.matrixBytes),
      bytes(r.peakRssBytes),
      `${r.recommendMs.toFixed(2)} ms`,
      secs(r.eraseSeconds),
    ];
  });
  return (
    `### EASE: λ and fit cost\n\n${machineLine(f)}\n\n` +
    (chosen ? `λ chosen on a validation split carved from train (NDCG@10 by λ: ${lambdas}): **λ ${chosen.lambda}**, test P@10 ${test.precision.toFixed(4)}, NDCG@10 ${test.ndcg.toFixed(4)}, fit ${secs(test.fit_seconds)}.\n\n` : '') +
    `Fit by catalog size (synthetic data; the inversion runs through whichever of items and users is smaller):\n\n` +
    table(['path', 'items', 'users', 'pairs', 'threads', 'fit', 'Gram', 'inversion', 'B', 'peak RSS', 'recommend', 'erase'], rows)
  );
}

/** The blend's and EASE's effect by history length (bench/cohorts.ts). */
function cohortsSection(f: Json): string {
  const results = f.results as Json[];
  const cohorts = (results[0]?.cohorts ?? []) as Json[];
  const rows = results.map((r) => [
    r.algorithm,
    r.mode,
    r.blend ? 'on' : 'off',
    r.hitRate.toFixed(4),
    r.ndcg.toFixed(4),
    ...(r.cohorts as Json[]).map((c) => c.hitRate.toFixed(4)),
    r.coverage.toFixed(3),
    r.popularityRank.toFixed(0),
  ]);
  const events = cohorts.map((c) => `${c.cohort}: ${int(c.events)}`).join(', ');
  return (
    `### Replay by history length: blend and EASE\n\n${machineLine(f)}\n\n${f.method} Test events per cohort (events the user had before): ${events}.\n\n` +
    table(['algorithm', 'mode', 'blend', 'hit-rate@10', 'NDCG@10', ...cohorts.map((c) => `hit-rate ${c.cohort}`), 'coverage', 'popularity rank'], rows)
  );
}

// ---- assemble ----

const SECTIONS: Array<[string, (f: Json) => string]> = [
  ['fit', fitSection],
  ['kernels', kernelsSection],
  ['foldin', foldinSection],
  ['ann', annSection],
  ['ann-100000', annSection],
  ['http', httpSection],
  ['memory', memorySection],
  ['retrain', retrainSection],
  ['replay', replaySection],
  ['cohorts', cohortsSection],
  ['ease', easeSection],
  ['accuracy', accuracySection],
  ['scale', scaleSection],
];

function buildReport(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  const data = new Map(files.map((f) => [f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Json]));
  // No heading of its own: the README puts the markers under its own results heading.
  const parts = [
    `_Generated by \`npm run bench\` (bench/report.ts) from bench/results/${isQuick() ? 'quick/' : ''}*.json; do not edit between the bench markers. ` +
      'Benchmarks, not tests: numbers depend on the machine and on whatever else was running (see the load averages)._',
  ];
  for (const [name, render] of SECTIONS) {
    const f = data.get(name);
    if (!f) continue;
    try {
      parts.push(render(f));
    } catch (error) {
      parts.push(`### ${name}\n\n_(bench/results/${name}.json could not be rendered: ${(error as Error).message})_`);
    }
  }
  for (const [name, f] of data) {
    if (name === 'run' || SECTIONS.some(([s]) => s === name)) continue;
    parts.push(genericSection(name, f));
  }
  if (data.has('run')) parts.push(runSection(data.get('run')!));
  if (files.length === 0) parts.push('_No results yet: run `npm run bench`._');
  return parts.join('\n\n');
}

/** Replaces what lies between the markers (adding them at the end when missing); nothing else changes. */
function spliceReadme(readme: string, body: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END, start + START.length);
  if (start < 0 || end < 0) return `${readme}${readme === '' || readme.endsWith('\n') ? '' : '\n'}${START}\n${body}\n${END}\n`;
  return `${readme.slice(0, start + START.length)}\n${body}\n${readme.slice(end)}`;
}

const quick = isQuick();
const body = buildReport(resultsDir(quick));
if (quick || process.argv.includes('--stdout')) {
  console.log(body);
} else {
  const path = join(ROOT, 'README.md');
  const readme = existsSync(path) ? readFileSync(path, 'utf8') : `${START}\n${END}\n`;
  const next = spliceReadme(readme, body);
  if (next !== readme) writeFileSync(path, next);
  console.log(`README.md: benchmark section ${next === readme ? 'unchanged' : 'rewritten'} (${body.length} characters between the markers)`);
}
