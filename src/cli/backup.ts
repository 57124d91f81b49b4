import { copyFileSync, existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { isPostgresUrl } from '../store/open.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { openExisting, withStore } from './engine.ts';
import { CliError } from './errors.ts';
import { databaseOption } from './options.ts';
import { io } from './io.ts';

/**
 * `backup` copies a live database with SQLite's online backup API — safe while `serve` is
 * writing, and everything liverec stores (events, items, models) is in that one file.
 * `restore` puts a backup in place after checking it opens as a liverec database.
 */
const POSTGRES_BACKUP =
  'backup and restore copy a SQLite file; for PostgreSQL use its own tools: `pg_dump --format=custom <url> > liverec.dump` and `pg_restore --clean --dbname <url> liverec.dump`';

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .summary('copy a live database to a file (online, consistent)')
    .addOption(databaseOption('the database to copy (SQLite; PostgreSQL has pg_dump)'))
    .requiredOption('--to <file>', 'backup file to write (must not exist)')
    .action(async (options: { db: string; to: string }, command: Command) => {
      if (isPostgresUrl(options.db)) throw new CliError(POSTGRES_BACKUP);
      if (existsSync(options.to)) throw new CliError(`--to: ${options.to} already exists; choose a new file`);
      const store = await openExisting(options.db);
      await withStore(store, async () => {
        await store.maintenance!.backup(options.to);
        const [events, models] = await Promise.all([store.countFeedback(), store.latestModels()]);
        io(command).out(`backed up ${events.toLocaleString('en-US')} feedback events and ${models.length} model version(s) to ${options.to}\n`);
      });
    });

  program
    .command('restore')
    .summary('replace a database with a backup (stop the server first)')
    .requiredOption('--from <file>', 'backup file written by `liverec backup`')
    .addOption(databaseOption('the database file to replace'))
    .option('--force', 'overwrite an existing database')
    .action(async (options: { from: string; db: string; force?: boolean }, command: Command) => {
      if (isPostgresUrl(options.db)) throw new CliError(POSTGRES_BACKUP);
      if (!existsSync(options.from)) throw new CliError(`--from: ${options.from} does not exist`);
      if (existsSync(options.db) && !options.force) throw new CliError(`--db: ${options.db} exists; pass --force to replace it`);
      // Opening read-only checks it is a liverec database of this schema before anything is replaced.
      const check = SqliteStore.open(options.from, { readonly: true });
      const events = await check.countFeedback();
      await check.close();
      for (const suffix of ['-wal', '-shm']) rmSync(options.db + suffix, { force: true });
      copyFileSync(options.from, options.db);
      io(command).out(`restored ${events.toLocaleString('en-US')} feedback events into ${options.db}\n`);
    });
}
