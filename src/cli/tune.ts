import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidInputError } from '../errors.ts';
import { readInteractions } from '../eval/readers.ts';
import { SPLIT_NAMES, type SplitName } from '../eval/splits.ts';
import {
  DEFAULT_SEED, DEFAULT_TRIALS, DEFAULT_VALIDATION_FRACTION, SEARCHES, TUNABLE, TUNE_METRICS,
  defaultMetric, lowerIsBetter, parseSpace, plan, resolveSpace, tune,
  type Search, type Space, type TunableAlgorithm, type TuneMetric, type TuneResult,
} from '../eval/tune.ts';
import { ALGORITHMS, createModel, type Algorithm } from '../model/index.ts';
import { CliError } from './errors.ts';
import { formatMetrics, metricsJson } from './eval-report.ts';
import { io, progress, type Progress } from './io.ts';
import { integer, number, positiveInteger, requireFile } from './options.ts';

interface TuneCliOptions {
  data: string; algorithm: TunableAlgorithm; search: Search; trials?: number; seed: number;
  split?: SplitName; testFraction?: number; leaveN?: number; validationFraction: number;
  metric?: TuneMetric; k: number; space?: string; save?: string; json?: boolean;
}

/** Which flag set each `InvalidInputError.field` tune() can raise, so its errors name the flag. */
const FLAGS: Record<string, string> = {
  trials: '--trials', metric: '--metric', testFraction: '--test-fraction', validationFraction: '--validation-fraction',
  space: '--space', seed: '--seed',
};

function seed(raw: string): number {
  const n = integer(raw);
  // Model schemas take seeds ≥ 0; failing here names the flag instead of a model param.
  if (n < 0) throw new InvalidArgumentError('Expected a non-negative integer.');
  return n;
}

function openFraction(raw: string): number {
  const n = number(raw);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('Expected a number between 0 and 1 (exclusive).');
  return n;
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .summary('search hyperparameters on a validation split, then report the best on held-out test')
    .description(
      [
        'Splits --data into train and test exactly as `liverec eval --data … --split …` does (same defaults, same --seed), then carves a validation split from train alone: stratified per user for ranking metrics, random for rmse. Every trial fits on the rest of train and is scored on validation; test is never looked at during the search.',
        'At the end the best configuration is refitted on all of train and scored on test once: that is the held-out estimate to quote. It equals `liverec eval` with the same split, --seed and the best params.',
        '--space replaces or adds params of the default space, as JSON: [low, high] (two numbers) is a continuous range, log-uniform when both are > 0 and high/low > 10; any other array is a list of choices. Example: \'{"reg":[0.01,1],"factors":[32,64,128]}\'. A grid takes 4 points of each range.',
        'Random search draws --trials configurations, none repeated. Grid search runs the whole product; with --trials it refuses a grid larger than that.',
      ].join('\n\n'),
    )
    .requiredOption('--data <file>', 'one interactions file to split')
    .addOption(new Option('--algorithm <name>', 'algorithm to tune').choices(TUNABLE).makeOptionMandatory())
    .addOption(new Option('--search <kind>', 'how configurations are chosen').choices(SEARCHES).default('random'))
    .option('--trials <n>', `configurations to try (random default ${DEFAULT_TRIALS}; grid: a cap)`, positiveInteger)
    .option('--seed <n>', 'seeds the splits, the search and the models', seed, DEFAULT_SEED)
    .addOption(new Option('--split <name>', 'train/test split (default: random for rmse, stratified otherwise)').choices(SPLIT_NAMES))
    .option('--test-fraction <f>', 'test share (default: random 0.2, stratified 0.25, temporal 0.2)', openFraction)
    .option('--leave-n <n>', 'most recent rows per user held out by the leave-last split (default 1)', positiveInteger)
    .option('--validation-fraction <f>', 'share of train held out for validation', openFraction, DEFAULT_VALIDATION_FRACTION)
    .addOption(new Option('--metric <name>', 'validation metric (default: rmse for als and svd, ndcg otherwise)').choices(TUNE_METRICS))
    .option('--k <n>', 'length of every recommendation list', positiveInteger, 10)
    .option('--space <json>', 'search space overrides, e.g. \'{"reg":[0.01,1],"factors":[32,64]}\'')
    .option('--save <file>', 'write the best {"algorithm", "params"} as JSON, for `liverec train --params`')
    .option('--json', 'print one JSON object (the last stdout line) instead of tables')
    .action((options: TuneCliOptions, command: Command) => {
      const { out, err } = io(command);
      const metric = options.metric ?? defaultMetric(options.algorithm);
      const split = options.split ?? (lowerIsBetter(metric) ? 'random' : 'stratified');
      if (split === 'leave-last' && options.testFraction !== undefined) {
        throw new CliError('--test-fraction does not apply to the leave-last split; use --leave-n');
      }
      if (split !== 'leave-last' && options.leaveN !== undefined) throw new CliError('--leave-n only applies to the leave-last split');
      const space = flagged(() => (options.space === undefined ? undefined : spaceFrom(options.algorithm, options.space)));
      // Planned before the data is read, so a bad --space, --metric or --trials fails at once on a big file.
      flagged(() => plan({ ...options, metric, space }));
      const rows = readInteractions(requireFile(options.data));

      let bar: Progress | undefined;
      const result = flagged(() => {
        try {
          return tune({
            rows, algorithm: options.algorithm, split, testFraction: options.testFraction, leaveN: options.leaveN,
            validationFraction: options.validationFraction, search: options.search, trials: options.trials,
            seed: options.seed, metric, k: options.k, space,
            onSplit: ({ fit, validation, test }, trials) => {
              const count = (n: number) => n.toLocaleString('en-US');
              err(`tuning ${options.algorithm} on ${metric} (${trials} ${options.search} trials): fitting on ${count(fit.length)} rows, validating on ${count(validation.length)}; ${count(test.length)} test rows held out\n`);
              bar = progress('tuning', trials, 'trials');
            },
            onTrial: (_trial, done) => bar?.update(done),
          });
        } finally {
          bar?.stop();
        }
      });
      if (options.save) {
        writeFileSync(options.save, JSON.stringify({ algorithm: result.algorithm, params: result.bestParams }, null, 2) + '\n');
        err(`saved the best params to ${options.save}; train with \`liverec train --db DB --params ${options.save}\`\n`);
      }
      out(options.json ? JSON.stringify(tuneJson(result, split)) + '\n' : formatTune(result));
    });
}

function spaceFrom(algorithm: TunableAlgorithm, text: string): Space {
  try {
    return resolveSpace(algorithm, parseSpace(text));
  } catch (err) {
    // The model's schema error names the param but not where it came from.
    if (err instanceof InvalidInputError && err.field !== 'space') throw new InvalidInputError(err.message, 'space');
    throw err;
  }
}

/** Runs `fn`, prefixing the flag to an input error tune() attributes to one. */
function flagged<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const flag = err instanceof InvalidInputError && err.field !== undefined ? FLAGS[err.field] : undefined;
    if (flag) throw new CliError(`${flag}: ${(err as Error).message}`);
    throw err;
  }
}

function tuneJson(result: TuneResult, split: SplitName): Record<string, unknown> {
  const best = result.trials[result.bestIndex];
  return {
    algorithm: result.algorithm,
    metric: result.metric,
    best: { params: result.bestParams, validation: best.validation },
    test: metricsJson(result.test),
    trials: result.trials.map((t) => ({ params: t.params, validation: t.validation, fit_seconds: t.fitSeconds, ...(t.error ? { error: t.error } : {}) })),
    search: result.search,
    seed: result.seed,
    split: { name: split, train_rows: result.sizes.train, fit_rows: result.sizes.fit, validation_rows: result.sizes.validation, test_rows: result.sizes.test },
  };
}

function formatTune(result: TuneResult): string {
  const keys = [...new Set(result.trials.flatMap((t) => Object.keys(t.params)))];
  const header = ['trial', ...keys, `validation ${result.metric}`, 'fit s'];
  const rows = result.trials.map((t, i) => [
    `${i + 1}${i === result.bestIndex ? ' *' : ''}`,
    ...keys.map((key) => String(t.params[key] ?? '')),
    t.validation === null ? 'failed' : t.validation.toFixed(4),
    t.fitSeconds.toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const best = result.trials[result.bestIndex];
  const params = Object.entries(result.bestParams).map(([key, value]) => `${key}=${value}`).join(' ');
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    line(header),
    ...rows.map(line),
    '',
    `best (trial ${result.bestIndex + 1}, ${lowerIsBetter(result.metric) ? 'lowest' : 'highest'} validation ${result.metric} ${best.validation!.toFixed(4)}): ${params}`,
    ...result.trials.filter((t) => t.error).slice(0, 1).map((t) => `some trials failed, e.g.: ${t.error}`),
    '',
    `held-out test estimate: the best params refitted on all ${count(result.sizes.train)} train rows, scored once on ${count(result.sizes.test)} test rows`,
    formatMetrics(result.test),
  ].join('\n');
}

/** A `tune --save` file: `{ "algorithm", "params" }`. */
export interface ParamsFile {
  algorithm: Algorithm;
  params: Record<string, unknown>;
}

/**
 * Reads a `--params` file and checks its params against the algorithm's strict schema, so an
 * unknown or out-of-range param is reported with the file's name rather than mid-training.
 */
export function readParamsFile(path: string): ParamsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'not a regular file' : (err as Error).message;
    throw new CliError(`--params: cannot read ${path}: ${err instanceof SyntaxError ? `not valid JSON (${why})` : why}`);
  }
  const file = raw as Partial<ParamsFile> | null;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(file) || typeof file.algorithm !== 'string' || !isObject(file.params)) {
    throw new CliError(`--params: ${path} must be {"algorithm": "…", "params": {…}}, as written by \`liverec tune --save\``);
  }
  if (!(ALGORITHMS as string[]).includes(file.algorithm)) {
    throw new CliError(`--params: ${path} names unknown algorithm '${file.algorithm}'; expected one of ${ALGORITHMS.join(', ')}`);
  }
  try {
    createModel(file.algorithm, file.params);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CliError(`--params ${path}: ${err.message}`);
    throw err;
  }
  return { algorithm: file.algorithm, params: file.params };
}

/**
 * The algorithm and params `train` uses: the file's, with explicit flags on top. A different
 * --algorithm is refused rather than mixed, since the file's params belong to its algorithm.
 */
export function withParamsFile(path: string | undefined, algorithm: Algorithm | undefined, flags: Record<string, unknown>): { algorithm?: Algorithm; params: Record<string, unknown> } {
  if (path === undefined) return { algorithm, params: flags };
  const file = readParamsFile(path);
  if (algorithm !== undefined && algorithm !== file.algorithm) {
    throw new CliError(`--algorithm ${algorithm} conflicts with --params ${path}, which holds ${file.algorithm} params`);
  }
  return { algorithm: file.algorithm, params: { ...file.params, ...flags } };
}
