/**
 * `liverec replay`: the prequential benchmark from the command line. Reads the file once and
 * replays it in each requested mode (and signals kind), so the runs compare on identical events
 * and model params.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidInputError } from '../errors.ts';
import { DataFormatError, readInteractions, type RatingRow } from '../eval/readers.ts';
import { itemsFile, movieLensMovies } from './import-sources.ts';
import { requireFile } from './options.ts';
import {
  DEFAULT_HALF_LIFE_DAYS, REPLAY_MODES, REPLAY_SIGNALS, replay, type ReplayMode, type ReplayResult, type ReplaySignals,
} from '../eval/replay.ts';
import { ALGORITHMS, createModel } from '../model/index.ts';
import { io, type Io } from './io.ts';

type Modes = Partial<Record<ReplayMode, ReplayResult>>;

interface ReplayFlags {
  events: string;
  movies?: string;
  items?: string;
  blend: 'on' | 'off' | 'both';
  blendHistoryItems: number;
  trainFraction: number;
  k: number;
  mode: ReplayMode | 'all';
  algorithm: string;
  factors?: number;
  reg?: number;
  alpha?: number;
  iterations?: number;
  retrainEvery: number;
  windows: number;
  signals: ReplaySignals | 'both';
  halfLifeDays: number;
  json?: boolean;
}

/** Which flag a replay or model-param error is about, so the one-line message can name it. */
const FLAG_OF: Record<string, string> = {
  trainFraction: '--train-fraction', k: '--k', mode: '--mode', algorithm: '--algorithm', retrainEvery: '--retrain-every',
  windows: '--windows', factors: '--factors', reg: '--reg', alpha: '--alpha', iterations: '--iterations',
  signals: '--signals', halfLifeDays: '--half-life-days', blend: '--blend', movies: '--movies', items: '--items',
};

const HELP_AFTER = `
Signals (how a user's events become model input, for training, every fold-in and every retrain):
  flat   weight 1 per event (rating models: the rating), as \`liverec eval\` does
  decay  the engine's own profile: each event a rating weighted per star, decayed with half-life
         --half-life-days measured from the user's own latest event (never below the engine's
         decay floor); 0 = no decay, star weights only. Rating models (als, svd) see the latest
         rating undecayed either way, as in the engine.
  both   runs flat then decay and compares them.

--json prints one object on the last line:
  {"modes": {<mode>: result, ...}, "signals": {<signals>: {<mode>: result, ...}, ...}}
  "modes" is the flat run (the decay run with --signals decay), so readers of the older
  {"modes": ...} output keep working; "signals" holds every run by kind ("flat" and/or
  "decay"). Each result carries its "signals", "halfLifeDays" and "decayFloor" (null for flat).`;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay events in time order, scoring each before learning from it (static vs fold-in vs fold-in+retrain)')
    .requiredOption('--events <file>', 'interaction file (MovieLens CSV, user,item[,value][,timestamp] CSV or ml-100k u.data)')
    .option('--movies <file>', 'MovieLens movies.csv: genres become item categories (what profiles and the blend read)')
    .option('--items <file>', "items as JSON lines {itemId, categories?, ...} (import's --items format)")
    .addOption(new Option('--blend <when>', 'the profile-aware blend for short histories (needs --movies or --items)').choices(['on', 'off', 'both']).default('on'))
    .option('--blend-history-items <n>', 'blend: history length (distinct items) from which the model ranks alone', positiveInt, 20)
    .option('--train-fraction <f>', 'share of the earliest events the initial model trains on, in (0, 1)', fraction, 0.8)
    .option('--k <n>', 'recommendation list length', positiveInt, 10)
    .addOption(new Option('--mode <mode>', 'how each event is ingested').choices([...REPLAY_MODES, 'all']).default('all'))
    .addOption(new Option('--algorithm <name>', 'model to replay').choices(ALGORITHMS).default('implicit-als'))
    .option('--factors <n>', 'latent factors', positiveInt)
    .option('--reg <x>', 'regularisation', nonNegative)
    .option('--alpha <x>', 'implicit confidence scale', nonNegative)
    .option('--iterations <n>', 'training sweeps', positiveInt)
    .option('--retrain-every <n>', 'fold-in+retrain: refit after this many events', positiveInt, 5000)
    .option('--windows <n>', 'equal-count slices of the test period to report', positiveInt, 10)
    .addOption(new Option('--signals <kind>', 'how events become model input (see below)').choices([...REPLAY_SIGNALS, 'both']).default('flat'))
    .option('--half-life-days <d>', 'decay: days after which a rating counts half (0 = no decay)', nonNegative, DEFAULT_HALF_LIFE_DAYS)
    .option('--json', 'print the results as one JSON object on the last line (shape below)')
    .addHelpText('after', HELP_AFTER)
    .action(async function (this: Command, flags: ReplayFlags) {
      try {
        await run(flags, io(this));
      } catch (err) {
        this.error(`error: ${describe(err, flags.events)}`);
      }
    });
}

async function run(flags: ReplayFlags, out: Io): Promise<void> {
  const params = modelParams(flags);
  const items = catalog(flags);
  const rows = readInteractions(flags.events);
  const modes = flags.mode === 'all' ? [...REPLAY_MODES] : [flags.mode];
  const kinds = flags.signals === 'both' ? [...REPLAY_SIGNALS] : [flags.signals];
  const blends = flags.blend === 'both' ? ['off', 'on'] : [flags.blend];
  const progress = !flags.json && process.stderr.isTTY;
  const runs: Runs = {};
  for (const signals of kinds) {
    for (const blendWhen of blends) {
      const results: Modes = (runs[runKey(signals, blendWhen, flags.blend)] = {});
      const label = [kinds.length > 1 ? signals : '', blends.length > 1 ? `blend ${blendWhen}` : ''].filter(Boolean).map((l) => `${l} `).join('');
      for (const mode of modes) {
        results[mode] = await replay(rows, {
          mode,
          trainFraction: flags.trainFraction,
          k: flags.k,
          algorithm: flags.algorithm,
          params,
          retrainEvery: flags.retrainEvery,
          windows: flags.windows,
          signals,
          halfLifeDays: flags.halfLifeDays,
          items,
          blend: blendWhen === 'on' ? { historyItems: flags.blendHistoryItems } : false,
          onProgress: progress ? (done, total) => process.stderr.write(`\r${label}${mode}: ${done}/${total} events${done === total ? '\n' : ''}`) : undefined,
        });
      }
    }
  }
  if (flags.json) out.out(JSON.stringify(replayJson(runs)) + '\n');
  else printHuman(runs, flags.k, rows, out);
}

/** Runs are keyed by signals kind, and with --blend both also by blend ("flat", "flat+blend"). */
type Runs = Record<string, Modes>;

function runKey(signals: ReplaySignals, blendWhen: string, blendFlag: string): string {
  return blendFlag === 'both' && blendWhen === 'on' ? `${signals}+blend` : signals;
}

/** The item categories given with --movies or --items; undefined when neither was. */
function catalog(flags: ReplayFlags): Array<{ itemId: string; categories: string[] }> | undefined {
  if (flags.movies && flags.items) throw new InvalidInputError('give item categories with --movies or --items, not both', 'items');
  const path = flags.movies ?? flags.items;
  if (!path) return undefined;
  const field = flags.movies ? 'movies' : 'items';
  requireFile(path);
  const out: Array<{ itemId: string; categories: string[] }> = [];
  for (const row of flags.movies ? movieLensMovies(path) : itemsFile(path)) {
    if ('reason' in row) throw new InvalidInputError(`${path} line ${row.line}: ${row.reason}`, field);
    out.push({ itemId: row.value.itemId, categories: row.value.categories ?? [] });
  }
  return out;
}

/** The --json object: `modes` as before (the first run), plus every run under `signals`. */
function replayJson(runs: Runs): { modes: Modes; signals: Runs } {
  return { modes: Object.values(runs)[0], signals: runs };
}

/**
 * The model flags given, each checked alone before the (possibly long) file read: the schema
 * reports a param the algorithm does not take as a nameless 'params' error, which would not
 * say which flag to drop.
 */
function modelParams(flags: ReplayFlags): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const name of ['factors', 'reg', 'alpha', 'iterations'] as const) {
    if (flags[name] === undefined) continue;
    try {
      createModel(flags.algorithm, { [name]: flags[name] });
    } catch (err) {
      if (!(err instanceof InvalidInputError) || err.field !== 'params') throw err;
      throw new InvalidInputError(`the ${flags.algorithm} algorithm takes no ${name} parameter`, name);
    }
    params[name] = flags[name];
  }
  return params;
}

function printHuman(runs: Runs, k: number, rows: RatingRow[], out: Io): void {
  const first = Object.values(Object.values(runs)[0]!)[0]!;
  out.out(`${rows.length} events: ${first.trainEvents} train the initial ${first.algorithm} model, ${first.events} are replayed; k = ${k}\n`);
  for (const results of Object.values(runs)) {
    for (const r of Object.values(results)) {
      out.out(`\n${r.mode}${r.retrains ? ` (${r.retrains} retrains)` : ''}, ${signalsLabel(r)}${r.blend ? `, blend to ${r.blend.historyItems} items` : ', no blend'}\n`);
      const lines = r.windows.map((w, i) => [String(i + 1), w.from.slice(0, 10), w.to.slice(0, 10), String(w.events), w.hitRate.toFixed(4), w.ndcg.toFixed(4), '']);
      lines.push(['all', r.windows[0].from.slice(0, 10), r.windows.at(-1)!.to.slice(0, 10), String(r.events), r.hitRate.toFixed(4), r.ndcg.toFixed(4), r.eventsPerSecond.toFixed(0)]);
      printTable(['window', 'from', 'to', 'events', `hit-rate@${k}`, `NDCG@${k}`, 'events/s'], lines, out);
      out.out(`  repeats ${r.repeatEvents}, unknown items ${r.unknownItemEvents}, cold users ${r.coldUserEvents}; initial fit ${r.trainSeconds.toFixed(1)} s\n`);
      out.out(`  coverage ${r.coverage.toFixed(4)}, mean popularity rank of recommended items ${r.popularityRank.toFixed(1)}\n`);
      out.out(`  by history length before the event: ${r.cohorts.map((c) => `${c.cohort} ${c.events} events, hit-rate ${c.hitRate.toFixed(4)}`).join('; ')}\n`);
    }
  }
  const summary: string[] = [];
  for (const results of Object.values(runs)) {
    const base = results.static;
    const live = [results['fold-in'], results['fold-in+retrain']].filter((r) => r !== undefined);
    if (!base) continue;
    for (const r of live) summary.push(`lift of ${r.mode} over static (${r.signals}): hit-rate ${lift(r.hitRate, base.hitRate)}, NDCG ${lift(r.ndcg, base.ndcg)}`);
  }
  const { flat, decay } = runs;
  if (flat && decay) {
    for (const mode of Object.keys(flat) as ReplayMode[]) {
      const f = flat[mode]!, d = decay[mode]!;
      summary.push(
        `${signalsLabel(d)} vs flat, ${mode}: hit-rate ${lift(d.hitRate, f.hitRate, 'flat')}, NDCG ${lift(d.ndcg, f.ndcg, 'flat')}; ` +
          `${f.msPerEvent.toFixed(3)} → ${d.msPerEvent.toFixed(3)} ms/event`,
      );
    }
  }
  for (const signals of REPLAY_SIGNALS) {
    const plain = runs[signals], blended = runs[`${signals}+blend`];
    if (!plain || !blended) continue;
    for (const mode of Object.keys(plain) as ReplayMode[]) {
      const p = plain[mode]!, b = blended[mode]!;
      const cohorts = b.cohorts.map((c, i) => `${c.cohort} ${lift(c.hitRate, p.cohorts[i].hitRate, 'no blend')}`).join(', ');
      summary.push(`blend vs none, ${mode} (${signals}): hit-rate ${lift(b.hitRate, p.hitRate, 'no blend')} (${cohorts}), NDCG ${lift(b.ndcg, p.ndcg, 'no blend')}`);
    }
  }
  if (summary.length > 0) out.out(`\n${summary.join('\n')}\n`);
}

function signalsLabel(r: ReplayResult): string {
  if (r.signals === 'flat') return 'flat signals';
  return r.halfLifeDays === 0 ? 'decay signals (no decay: star weights only)' : `decay signals (half-life ${r.halfLifeDays} days)`;
}

function lift(value: number, base: number, baseName = 'static'): string {
  if (base === 0) return value === 0 ? '+0.0%' : `n/a (${baseName} is 0)`;
  const pct = (value / base - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Left-aligned first columns, right-aligned numbers. */
function printTable(header: string[], lines: string[][], out: Io): void {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const format = (cells: string[]) => '  ' + cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ') + '\n';
  out.out(format(header));
  for (const l of lines) out.out(format(l));
}

function describe(err: unknown, file: string): string {
  if (err instanceof InvalidInputError) {
    const flag = err.field && FLAG_OF[err.field];
    return flag ? `${flag}: ${err.message}` : err.message;
  }
  if (err instanceof DataFormatError) return `--events: ${err.message}`;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return `--events: cannot read ${file} (${code})`;
  throw err;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be a number strictly between 0 and 1.');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a non-negative number.');
  return n;
}
