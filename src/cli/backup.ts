import { copyFileSync, existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { SqliteStore } from '../store/sqlite.ts';
import { openExisting, withStore } from './engine.ts';
import { CliError } from './errors.ts';
import { io } from './io.ts';

/**
 * `backup` copies a live database with SQLite's online backup API — safe while `serve` is
 * writing, and everything liverec stores (events, items, models) is in that one file.
 * `restore` puts a backup in place after checking it opens as a liverec database.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .summary('copy a live database to a file (online, consistent)')
    .requiredOption('--db <file>', 'SQLite database file')
    .requiredOption('--to <file>', 'backup file to write (must not exist)')
    .action(async (options: { db: string; to: string }, command: Command) => {
      if (existsSync(options.to)) throw new CliError(`--to: ${options.to} already exists; choose a new file`);
      const store = openExisting(options.db);
      await withStore(store, async () => {
        await store.backup(options.to);
        io(command).out(`backed up ${store.countFeedback().toLocaleString('en-US')} feedback events and ${store.latestModels().length} model version(s) to ${options.to}\n`);
      });
    });

  program
    .command('restore')
    .summary('replace a database with a backup (stop the server first)')
    .requiredOption('--from <file>', 'backup file written by `liverec backup`')
    .requiredOption('--db <file>', 'database file to replace')
    .option('--force', 'overwrite an existing database')
    .action((options: { from: string; db: string; force?: boolean }, command: Command) => {
      if (!existsSync(options.from)) throw new CliError(`--from: ${options.from} does not exist`);
      if (existsSync(options.db) && !options.force) throw new CliError(`--db: ${options.db} exists; pass --force to replace it`);
      // Opening read-only checks it is a liverec database of this schema before anything is replaced.
      const check = SqliteStore.open(options.from, { readonly: true });
      const events = check.countFeedback();
      check.close();
      for (const suffix of ['-wal', '-shm']) rmSync(options.db + suffix, { force: true });
      copyFileSync(options.from, options.db);
      io(command).out(`restored ${events.toLocaleString('en-US')} feedback events into ${options.db}\n`);
    });
}
