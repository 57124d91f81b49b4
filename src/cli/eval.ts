import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { evaluate, type EvalResult } from '../eval/evaluate.ts';
import { readInteractions, type RatingRow } from '../eval/readers.ts';
import { record } from './record.ts';
import { SPLIT_NAMES, splitBy, type SplitName } from '../eval/splits.ts';
import type { Algorithm } from '../model/index.ts';
import { CliError } from './errors.ts';
import { formatMetrics, metricsJson } from './eval-report.ts';
import { io, progress, type Progress } from './io.ts';
import { addParamOptions, algorithmOption, givenParams, number, positiveInteger, requireFile } from './options.ts';

interface EvalOptions {
  record?: string; train?: string; test?: string; data?: string; split?: SplitName; testFraction?: number; leaveN?: number;
  algorithm: Algorithm; k: number; seed?: number; relevantMin?: number; dump?: string; json?: boolean;
}

const DEFAULT_FRACTION: Record<Exclude<SplitName, 'leave-last'>, number> = { random: 0.2, stratified: 0.25, temporal: 0.2 };
const DEFAULT_SEED = 42;

export function registerEval(program: Command): void {
  addParamOptions(
    program
      .command('eval')
      .summary('train on one set, score on another: rating error and top-k ranking metrics')
      .description(
        [
          'Fits a model on training interactions and scores it on test interactions. Give --train and --test, or --data with --split to split one file (seeded by --seed, default 42).',
          'Files: MovieLens "userId,movieId,rating,timestamp", a "user,item[,value][,timestamp]" CSV, or ml-100k u.data.',
          'als and svd fit on ratings (a repeated user–item pair keeps its last rating) and report rmse and mae over every test row; an unseen user or item falls back to the global mean plus the biases that are known.',
          'implicit-als, item-knn, ease and popular fit on weight 1 per interaction, repeats summed: every interaction counts once, whatever its rating, as in the published top-N protocol.',
          "Ranking: for each test user, the top k items of the full training catalog, leaving out the user's training items; relevant items are the user's test items (with value ≥ --relevant-min when given). A test user unknown to the model scores zero.",
        ].join('\n\n'),
      )
      .option('--train <file>', 'training interactions')
      .option('--test <file>', 'test interactions')
      .option('--data <file>', 'one interactions file to split (with --split)')
      .addOption(new Option('--split <name>', 'how to split --data').choices(SPLIT_NAMES))
      .option('--test-fraction <f>', 'test share (default: random 0.2, stratified 0.25, temporal 0.2)', number)
      .option('--leave-n <n>', 'most recent rows per user held out by the leave-last split (default 1)', positiveInteger)
      .addOption(algorithmOption('algorithm to evaluate').makeOptionMandatory())
      .option('--k <n>', 'length of every recommendation list', positiveInteger, 10),
  )
    .option('--relevant-min <r>', 'only test rows with value ≥ r are relevant', number)
    .option('--dump <dir>', 'write predictions.csv and recommendations.csv to this directory')
    .option('--json', 'print one JSON object (the last stdout line) instead of a table')
    .option('--record <db>', "also store the metrics in this database (shown on the server's dashboard)")
    .action(async (options: EvalOptions, command: Command) => {
      const { out } = io(command);
      const { train, test } = loadSplit(options);
      // Created on the first report, so the bar does not sit at 0% while the model fits.
      let bar: Progress | undefined;
      const result = evaluate({
        train,
        test,
        algorithm: options.algorithm,
        params: givenParams(options as unknown as Record<string, unknown>),
        k: options.k,
        relevantMin: options.relevantMin,
        onProgress: (done, total) => (bar ??= progress('ranking', total, 'users')).update(done),
      });
      bar?.stop();
      if (options.dump) dump(options.dump, test, result);
      // The split travels with the metrics: the dashboard shows which protocol produced them.
      if (options.record) await record(options.record, 'eval', { split: options.split ?? 'files', ...metricsJson(result.metrics) });
      out(options.json ? JSON.stringify(metricsJson(result.metrics)) + '\n' : formatMetrics(result.metrics));
    });
}

function loadSplit(options: EvalOptions): { train: RatingRow[]; test: RatingRow[] } {
  const { data, split } = options;
  if (data === undefined) {
    if (options.train === undefined || options.test === undefined) {
      throw new CliError('eval needs --train FILE and --test FILE, or --data FILE --split NAME');
    }
    for (const flag of ['split', 'testFraction', 'leaveN'] as const) {
      if (options[flag] !== undefined) throw new CliError(`${flagName(flag)} only applies with --data`);
    }
    return { train: readInteractions(requireFile(options.train)), test: readInteractions(requireFile(options.test)) };
  }
  if (options.train !== undefined || options.test !== undefined) {
    throw new CliError('give either --data (with --split) or --train and --test, not both');
  }
  if (split === undefined) throw new CliError(`--data needs --split: one of ${SPLIT_NAMES.join(', ')}`);
  if (split === 'leave-last' && options.testFraction !== undefined) {
    throw new CliError('--test-fraction does not apply to the leave-last split; use --leave-n');
  }
  if (split !== 'leave-last' && options.leaveN !== undefined) throw new CliError('--leave-n only applies to the leave-last split');
  const rows = readInteractions(requireFile(data));
  return splitBy(split, rows, {
    testFraction: split === 'leave-last' ? undefined : (options.testFraction ?? DEFAULT_FRACTION[split]),
    seed: options.seed ?? DEFAULT_SEED,
    n: options.leaveN ?? 1,
  });
}

function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function dump(dir: string, test: RatingRow[], result: EvalResult): void {
  mkdirSync(dir, { recursive: true });
  const { predictions, recommendations } = result;
  if (predictions) {
    const lines = test.map((r, t) => `${csv(r.user)},${csv(r.item)},${r.value},${predictions[t]}`);
    writeFileSync(join(dir, 'predictions.csv'), ['user,item,actual,predicted', ...lines].join('\n') + '\n');
  }
  const lines: string[] = ['user,rank,item,score'];
  for (const [user, list] of recommendations) {
    list.forEach((s, i) => lines.push(`${csv(user)},${i + 1},${csv(s.itemId)},${s.score}`));
  }
  writeFileSync(join(dir, 'recommendations.csv'), lines.join('\n') + '\n');
}

/** Quotes a field only when it needs it (RFC 4180), so plain ids stay plain. */
function csv(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
