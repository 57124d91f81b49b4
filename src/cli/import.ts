import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { pseudonymizer } from '../engine/pseudonym.ts';
import { isPostgresUrl, openStore } from '../store/open.ts';
import type { FeedbackInput, ItemInput, Store } from '../store/types.ts';
import { engineSettings } from './config.ts';
import { CliError } from './errors.ts';
import { feedbackFile, itemsFile, movieLensMovies, movieLensRatings, type Parsed } from './import-sources.ts';
import { io, progress, type Io, type Progress } from './io.ts';
import { databaseOption, requireFile } from './options.ts';

/** Rows per store call (items: one transaction each, large enough to amortise the commit's fsync). */
export const BATCH_SIZE = 10_000;
/** Rejections printed per file; the rest are counted, so one systematic error cannot flood the terminal. */
const SHOWN_REJECTIONS = 20;

interface ImportOptions { db: string; ratings?: string; movies?: string; feedback?: string; items?: string; config?: string; strict?: boolean }

type Files = Pick<ImportOptions, 'movies' | 'ratings' | 'items' | 'feedback'>;

export interface ImportSettings {
  /** Raw user id → the id stored: the engine's pseudonymizer, so a salted server finds imported users. */
  userId?: (userId: string) => string;
  /** Epoch ms that rows without a timestamp get and the future-time rule is measured from. */
  now?: number;
}

interface Tally { accepted: number; duplicates: number }

/** One file's validated rows, and whether they are items or events. */
interface Source {
  path: string;
  noun: 'items' | 'events';
  rows: (onBytes: (read: number, total: number) => void) => Iterable<Parsed<ItemInput | FeedbackInput>>;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .summary('load items and feedback files into a database')
    .description(
      "Loads files into the database (created when missing), items before feedback. Every row is checked with the HTTP API's rules; bad rows are reported by line number, field and rule. By default they are skipped and the rest are stored (exit code 0 even when rows were rejected; on SQLite each feedback file is stored in one transaction, all or nothing); with --strict every file is checked first and any bad row stops the import before anything is stored (exit code 1). With a pseudonym salt (LIVEREC_PSEUDONYM_SALT, or engine.pseudonymSalt in --config) user ids are stored as the server stores them.",
    )
    .addOption(databaseOption('the database to load into (created when missing)'))
    .option('--movies <file>', 'MovieLens movies.csv (movieId,title,genres) → items with genres as categories')
    .option('--ratings <file>', 'MovieLens ratings.csv (userId,movieId,rating,timestamp) → rating events')
    .option('--items <file>', 'JSON lines of {itemId, title?, categories?, metadata?, available?}')
    .option('--feedback <file>', 'CSV with header userId,itemId,type[,value][,timestamp] (ms or ISO-8601), or JSON lines')
    .option('--config <file>', "the server's JSON settings file (or LIVEREC_CONFIG): its engine.pseudonymSalt applies to imported user ids")
    .option('--strict', 'store nothing when any row is rejected')
    .action(async (options: ImportOptions, command: Command) => {
      const { movies, ratings, items, feedback } = options;
      if (!movies && !ratings && !items && !feedback) {
        throw new CliError('import needs at least one of --movies, --ratings, --items, --feedback');
      }
      // Every file is checked before the database is touched, so a typo does not leave a half import.
      for (const path of [movies, ratings, items, feedback]) if (path) requireFile(path);
      const { pseudonymSalt } = engineSettings(options.config, process.env);
      const out = io(command);
      const settings: ImportSettings = { userId: pseudonymSalt ? pseudonymizer(pseudonymSalt) : undefined, now: Date.now() };
      // A full pass before the database is touched: with any bad row, not even the file is created.
      if (options.strict) checkFiles(options, settings.now!, out);
      if (!isPostgresUrl(options.db)) mkdirSync(dirname(options.db), { recursive: true });
      const store = await openStore(options.db);
      try {
        if (pseudonymSalt) out.err('pseudonymous ids: user ids are stored as HMAC-SHA-256 pseudonyms\n');
        await importFiles(store, options, out, settings);
      } finally {
        await store.close();
      }
    });
}

function sources(files: Files, now: number): Source[] {
  const list: Source[] = [];
  const { movies, items, ratings, feedback } = files;
  if (movies) list.push({ path: movies, noun: 'items', rows: (bytes) => movieLensMovies(movies, bytes) });
  if (items) list.push({ path: items, noun: 'items', rows: (bytes) => itemsFile(items, bytes) });
  if (ratings) list.push({ path: ratings, noun: 'events', rows: (bytes) => movieLensRatings(ratings, now, bytes) });
  if (feedback) list.push({ path: feedback, noun: 'events', rows: (bytes) => feedbackFile(feedback, now, bytes) });
  return list;
}

/** --strict: reads every file and fails, listing the bad rows, when any row is rejected. */
function checkFiles(files: Files, now: number, out: Io): void {
  let rejected = 0;
  for (const source of sources(files, now)) {
    const report = rejections(source.path);
    for (const row of source.rows(() => {})) if (!('value' in row)) report.add(row);
    report.print(out);
    rejected += report.count;
  }
  if (rejected > 0) throw new CliError(`--strict: ${count(rejected)} rejected ${rejected === 1 ? 'row' : 'rows'}; nothing was stored`);
}

/**
 * Imports every file named in `files`, items first; exported for the demo command. Events go
 * through the store's bulk load (see FeedbackImport), durable when a file's summary is printed;
 * a file database's write-ahead log is then emptied, so no copy of the load lingers beside it.
 */
export async function importFiles(store: Store, files: Files, out: Io, settings: ImportSettings = {}): Promise<void> {
  const uid = settings.userId;
  const items = (): Sink<ItemInput> => {
    let accepted = 0;
    return {
      add: async (batch) => void (accepted += await store.upsertItems(batch)),
      finish: async () => ({ accepted, duplicates: 0 }),
      abort: async () => {},
    };
  };
  const events = async (): Promise<Sink<FeedbackInput>> => {
    const load = await store.importFeedback();
    // Spread only when ids change: a copy of every row is measurable over millions.
    return uid ? { ...load, add: (batch) => load.add(batch.map((e) => ({ ...e, userId: uid(e.userId) }))) } : load;
  };
  for (const { path, noun, rows } of sources(files, settings.now ?? Date.now())) {
    await load(path, noun, rows, noun === 'items' ? items() : ((await events()) as Sink<ItemInput | FeedbackInput>), out);
  }
  await store.maintenance?.checkpoint();
}

/** Where one file's valid rows go, a batch at a time. */
interface Sink<T> {
  add(batch: T[]): Promise<void>;
  finish(): Promise<Tally>;
  abort(): Promise<void>;
}

async function load<T>(
  path: string,
  noun: string,
  rows: (onBytes: (read: number, total: number) => void) => Iterable<Parsed<T>>,
  sink: Sink<T>,
  out: Io,
): Promise<void> {
  const name = basename(path);
  // Created on the first chunk, once the file's size is known.
  const bar: { current?: Progress } = {};
  const onBytes = (read: number, total: number) => (bar.current ??= progress(`importing ${name}`, total, 'bytes')).update(read);
  // Printed once the bar is gone, so messages do not interleave with its redraws.
  const rejected = rejections(path);
  let batch: T[] = [];
  let tally: Tally;
  try {
    for (const row of rows(onBytes)) {
      if ('value' in row) {
        batch.push(row.value);
        if (batch.length === BATCH_SIZE) {
          await sink.add(batch);
          batch = [];
        }
      } else {
        rejected.add(row);
      }
    }
    await sink.add(batch);
    // The bar counts bytes read; storing a staged load takes a while more, with the bar gone.
    bar.current?.stop();
    bar.current = undefined;
    tally = await sink.finish();
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    bar.current?.stop();
    rejected.print(out);
  }
  const duplicates = noun === 'events' ? `, ${count(tally.duplicates)} duplicates` : '';
  out.out(`${name}: ${count(tally.accepted)} ${noun} accepted${duplicates}, ${count(rejected.count)} rejected\n`);
}

const count = (n: number) => n.toLocaleString('en-US');

/** One file's rejected rows: the first SHOWN_REJECTIONS kept as lines to print, the rest counted. */
function rejections(path: string) {
  const lines: string[] = [];
  let total = 0;
  return {
    add(row: { line: number; reason: string }): void {
      if (++total <= SHOWN_REJECTIONS) lines.push(`${path} line ${row.line}: ${row.reason}\n`);
    },
    get count(): number {
      return total;
    },
    print(out: Io): void {
      for (const line of lines) out.err(line);
      if (total > SHOWN_REJECTIONS) out.err(`${path}: ${total - SHOWN_REJECTIONS} more rejected rows not shown\n`);
    },
  };
}
