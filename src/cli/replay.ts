/**
 * `liverec replay`: the prequential benchmark from the command line. Reads the file once and
 * replays it in each requested mode, so the modes compare on identical events and model params.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidInputError } from '../errors.ts';
import { DataFormatError, readInteractions, type RatingRow } from '../eval/readers.ts';
import { REPLAY_MODES, replay, type ReplayMode, type ReplayResult } from '../eval/replay.ts';
import { ALGORITHMS, createModel } from '../model/index.ts';

interface ReplayFlags {
  events: string;
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
  json?: boolean;
}

/** Which flag a replay or model-param error is about, so the one-line message can name it. */
const FLAG_OF: Record<string, string> = {
  trainFraction: '--train-fraction', k: '--k', mode: '--mode', algorithm: '--algorithm', retrainEvery: '--retrain-every',
  windows: '--windows', factors: '--factors', reg: '--reg', alpha: '--alpha', iterations: '--iterations',
};

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay events in time order, scoring each before learning from it (static vs fold-in vs fold-in+retrain)')
    .requiredOption('--events <file>', 'interaction file (MovieLens CSV, user,item[,value][,timestamp] CSV or ml-100k u.data)')
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
    .option('--json', 'print the results as one JSON object on the last line')
    .action(function (this: Command, flags: ReplayFlags) {
      try {
        run(flags);
      } catch (err) {
        this.error(`error: ${describe(err, flags.events)}`);
      }
    });
}

function run(flags: ReplayFlags): void {
  const params = modelParams(flags);
  const rows = readInteractions(flags.events);
  const modes = flags.mode === 'all' ? [...REPLAY_MODES] : [flags.mode];
  const progress = !flags.json && process.stderr.isTTY;
  const results: Partial<Record<ReplayMode, ReplayResult>> = {};
  for (const mode of modes) {
    results[mode] = replay(rows, {
      mode,
      trainFraction: flags.trainFraction,
      k: flags.k,
      algorithm: flags.algorithm,
      params,
      retrainEvery: flags.retrainEvery,
      windows: flags.windows,
      onProgress: progress ? (done, total) => process.stderr.write(`\r${mode}: ${done}/${total} events${done === total ? '\n' : ''}`) : undefined,
    });
  }
  if (flags.json) console.log(JSON.stringify({ modes: results }));
  else printHuman(results, flags.k, rows);
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

function printHuman(results: Partial<Record<ReplayMode, ReplayResult>>, k: number, rows: RatingRow[]): void {
  const first = Object.values(results)[0]!;
  console.log(`${rows.length} events: ${first.trainEvents} train the initial ${first.algorithm} model, ${first.events} are replayed; k = ${k}`);
  for (const r of Object.values(results)) {
    console.log(`\n${r.mode}${r.retrains ? ` (${r.retrains} retrains)` : ''}`);
    const lines = r.windows.map((w, i) => [String(i + 1), w.from.slice(0, 10), w.to.slice(0, 10), String(w.events), w.hitRate.toFixed(4), w.ndcg.toFixed(4), '']);
    lines.push(['all', r.windows[0].from.slice(0, 10), r.windows.at(-1)!.to.slice(0, 10), String(r.events), r.hitRate.toFixed(4), r.ndcg.toFixed(4), r.eventsPerSecond.toFixed(0)]);
    printTable(['window', 'from', 'to', 'events', `hit-rate@${k}`, `NDCG@${k}`, 'events/s'], lines);
    console.log(`  repeats ${r.repeatEvents}, unknown items ${r.unknownItemEvents}, cold users ${r.coldUserEvents}; initial fit ${r.trainSeconds.toFixed(1)} s`);
  }
  const base = results.static;
  const live = [results['fold-in'], results['fold-in+retrain']].filter((r) => r !== undefined);
  if (!base || live.length === 0) return;
  console.log('');
  for (const r of live) console.log(`lift of ${r.mode} over static: hit-rate ${lift(r.hitRate, base.hitRate)}, NDCG ${lift(r.ndcg, base.ndcg)}`);
}

function lift(value: number, base: number): string {
  if (base === 0) return value === 0 ? '+0.0%' : 'n/a (static is 0)';
  const pct = (value / base - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Left-aligned first columns, right-aligned numbers. */
function printTable(header: string[], lines: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const format = (cells: string[]) => '  ' + cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(format(header));
  for (const l of lines) console.log(format(l));
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
