import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { SqliteStore } from '../store/sqlite.ts';
import { pseudonymizer } from '../engine/pseudonym.ts';
import { serveSettings, type ServeDefaults, type ServeFlags } from './config.ts';
import { engineConfig, openEngine } from './engine.ts';
import { CliError } from './errors.ts';
import { importFiles } from './import.ts';
import { io } from './io.ts';
import { addServeOptions, DEFAULT_HOST, DEFAULT_PORT, serve } from './serve.ts';

/**
 * MovieLens ml-latest-small, shipped in the repository (license in its README.txt) but not in the
 * npm package: its licence forbids commercial use, which the package's MIT licence does not.
 */
const DATA = fileURLToPath(new URL('../../data/ml-latest-small/', import.meta.url));

/** Interactive: request logs would bury the examples, so they are off unless asked for. */
const DEFAULTS: ServeDefaults = { host: DEFAULT_HOST, port: DEFAULT_PORT, log: 'off' };

export function registerDemo(program: Command): void {
  const command = program
    .command('demo')
    .summary('import the bundled MovieLens sample, train, and serve it')
    .description(
      'On first run (database missing or without feedback) imports the bundled MovieLens ml-latest-small (9,742 movies, 100,836 ratings) and trains a model; then serves the HTTP API and prints curl commands to try.',
    )
    .option('--db <file>', 'SQLite database file', './data/demo.db');
  addServeOptions(command, DEFAULTS).action(async (options: ServeFlags & { db: string }, command: Command) => {
    const out = io(command);
    const settings = serveSettings(options, process.env, DEFAULTS);
    mkdirSync(dirname(options.db), { recursive: true });
    const store = SqliteStore.open(options.db, { busyTimeoutMs: settings.busyTimeoutMs });
    try {
      if ((await store.countFeedback()) === 0) {
        if (!existsSync(DATA)) {
          throw new CliError(
            `the demo's MovieLens sample ships with the repository, not the npm package: run \`npm run demo\` in a clone of liverec, or load your own data with \`liverec import\``,
          );
        }
        out.err(`first run: importing MovieLens ml-latest-small into ${options.db}\n`);
        const userId = pseudonymizer(settings.engine.pseudonymSalt ?? null);
        await importFiles(store, { movies: DATA + 'movies.csv', ratings: DATA + 'ratings.csv' }, out, { userId });
      }
      const engine = await openEngine(store, await engineConfig(store, settings.engine));
      if (engine.model().version === null) {
        out.err(`training ${engine.config.algorithm}…\n`);
        const info = await engine.trainNow().catch(async (err: unknown) => {
          await engine.close(); // its training thread would keep the process alive
          throw err;
        });
        out.err(`model version ${info.version} ready\n`);
      }
      const url = await serve(store, engine, { ...settings, db: options.db }, out);
      out.out(examples(url));
    } catch (err) {
      await store.close();
      throw err;
    }
  });
}

function examples(url: string): string {
  const key = process.env.LIVEREC_API_KEY ? ' -H "Authorization: Bearer $LIVEREC_API_KEY"' : '';
  return `
Try it:
  # recommendations for user 1
  curl${key} '${url}/v1/users/1/recommendations?n=5'
  # user 1 buys movie 2571 (The Matrix); the answer carries their updated recommendations
  curl${key} -X POST '${url}/v1/feedback' -H 'Content-Type: application/json' \\
    -d '{"userId":"1","itemId":"2571","type":"purchase"}'
  # movies similar to movie 1 (Toy Story)
  curl${key} '${url}/v1/items/1/similar?n=5'
  # most popular movies
  curl${key} '${url}/v1/popular?n=5'

Ctrl-C stops the server.
`;
}
