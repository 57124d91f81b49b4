import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { SqliteStore } from '../store/sqlite.ts';
import type { FeedbackInput, ItemInput, Store } from '../store/types.ts';
import { CliError } from './errors.ts';
import { feedbackFile, itemsFile, movieLensMovies, movieLensRatings, type Parsed } from './import-sources.ts';
import { io, progress, type Io, type Progress } from './io.ts';
import { requireFile } from './options.ts';

/** Rows per store call: one transaction each, large enough to amortise the commit's fsync. */
export const BATCH_SIZE = 10_000;
/** Rejections printed per file; the rest are counted, so one systematic error cannot flood the terminal. */
const SHOWN_REJECTIONS = 20;

interface ImportOptions { db: string; ratings?: string; movies?: string; feedback?: string; items?: string }

interface Tally { accepted: number; duplicates: number; rejected: number }

export function registerImport(program: Command): void {
  program
    .command('import')
    .summary('load items and feedback files into a database')
    .description(
      "Loads files into the database (created when missing), items before feedback. Every row is checked with the HTTP API's rules; bad rows are reported by line number and skipped, the rest are stored in batches of 10,000. Exit code 0 even when rows were rejected.",
    )
    .requiredOption('--db <file>', 'SQLite database file')
    .option('--movies <file>', 'MovieLens movies.csv (movieId,title,genres) → items with genres as categories')
    .option('--ratings <file>', 'MovieLens ratings.csv (userId,movieId,rating,timestamp) → rating events')
    .option('--items <file>', 'JSON lines of {itemId, title?, categories?, metadata?, available?}')
    .option('--feedback <file>', 'CSV with header userId,itemId,type[,value][,timestamp] (ms or ISO-8601), or JSON lines')
    .action((options: ImportOptions, command: Command) => {
      const { movies, ratings, items, feedback } = options;
      if (!movies && !ratings && !items && !feedback) {
        throw new CliError('import needs at least one of --movies, --ratings, --items, --feedback');
      }
      // Every file is checked before the database is touched, so a typo does not leave a half import.
      for (const path of [movies, ratings, items, feedback]) if (path) requireFile(path);
      mkdirSync(dirname(options.db), { recursive: true });
      const store = SqliteStore.open(options.db);
      try {
        importFiles(store, options, io(command));
      } finally {
        store.close();
      }
    });
}

/** Imports every file named in `options`; exported for the demo command. */
export function importFiles(store: Store, options: Omit<ImportOptions, 'db'>, out: Io): void {
  const now = Date.now();
  if (options.movies) load(options.movies, 'items', (bytes) => movieLensMovies(options.movies!, bytes), storeItems(store), out);
  if (options.items) load(options.items, 'items', (bytes) => itemsFile(options.items!, bytes), storeItems(store), out);
  if (options.ratings) load(options.ratings, 'events', (bytes) => movieLensRatings(options.ratings!, now, bytes), storeFeedback(store), out);
  if (options.feedback) load(options.feedback, 'events', (bytes) => feedbackFile(options.feedback!, now, bytes), storeFeedback(store), out);
}

const storeItems = (store: Store) => (batch: ItemInput[]) => ({ accepted: store.upsertItems(batch), duplicates: 0 });
const storeFeedback = (store: Store) => (batch: FeedbackInput[]) => store.addFeedback(batch, { createMissingItems: true });

function load<T>(
  path: string,
  noun: string,
  rows: (onBytes: (read: number, total: number) => void) => Iterable<Parsed<T>>,
  write: (batch: T[]) => { accepted: number; duplicates: number },
  out: Io,
): void {
  const name = basename(path);
  const tally: Tally = { accepted: 0, duplicates: 0, rejected: 0 };
  // Created on the first chunk, once the file's size is known.
  const bar: { current?: Progress } = {};
  const onBytes = (read: number, total: number) => (bar.current ??= progress(`importing ${name}`, total, 'bytes')).update(read);
  // Held until the bar is gone, so messages do not interleave with its redraws.
  const shown: string[] = [];
  let batch: T[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const result = write(batch);
    tally.accepted += result.accepted;
    tally.duplicates += result.duplicates;
    batch = [];
  };
  try {
    for (const row of rows(onBytes)) {
      if ('value' in row) {
        batch.push(row.value);
        if (batch.length === BATCH_SIZE) flush();
      } else if (++tally.rejected <= SHOWN_REJECTIONS) {
        shown.push(`${path} line ${row.line}: ${row.reason}\n`);
      }
    }
    flush();
  } finally {
    bar.current?.stop();
    for (const message of shown) out.err(message);
  }
  if (tally.rejected > SHOWN_REJECTIONS) out.err(`${path}: ${tally.rejected - SHOWN_REJECTIONS} more rejected rows not shown\n`);
  const duplicates = noun === 'events' ? `, ${count(tally.duplicates)} duplicates` : '';
  out.out(`${name}: ${count(tally.accepted)} ${noun} accepted${duplicates}, ${count(tally.rejected)} rejected\n`);
}

const count = (n: number) => n.toLocaleString('en-US');
