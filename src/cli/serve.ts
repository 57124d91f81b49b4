import type { Command } from 'commander';
import type { Engine } from '../engine/engine.ts';
import { DEFAULT_BUSY_TIMEOUT_MS } from '../store/sqlite.ts';
import type { Store } from '../store/types.ts';
import { describeSettings, serveSettings, type ServeDefaults, type ServeFlags, type ServeSettings } from './config.ts';
import { engineConfig, openEngine, openExisting } from './engine.ts';
import { io, type Io } from './io.ts';
import { databaseOption } from './options.ts';

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';
const DEFAULTS: ServeDefaults = { host: DEFAULT_HOST, port: DEFAULT_PORT, log: 'json' };

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .summary('serve the HTTP API over a database')
    .description(
      'Serves the HTTP API. Settings come from flags, then environment variables, then --config <file>, then defaults (README "Configuration"). Set LIVEREC_API_KEY to require `Authorization: Bearer <key>` on writes, and LIVEREC_READ_KEY to require a key on reads too. SIGINT/SIGTERM stop it gracefully: in-flight requests finish, a running retrain is awaited, then the database is closed.',
    )
    .addOption(databaseOption('the database to serve'))
    .option('--create', 'create the database when it does not exist (a new shop starts empty and fills it over HTTP)');
  addServeOptions(command, DEFAULTS).action(async (options: ServeFlags & { db: string; create?: boolean }, command: Command) => {
    // Settings are checked before the database is opened, so a typo changes nothing.
    const settings = serveSettings(options, process.env, DEFAULTS);
    const store = await openExisting(options.db, { busyTimeoutMs: settings.busyTimeoutMs, create: options.create });
    try {
      const engine = await openEngine(store, await engineConfig(store, settings.engine));
      await serve(store, engine, { ...settings, db: options.db }, io(command));
    } catch (err) {
      await store.close();
      throw err;
    }
  });
}

/** The flags shared by `serve` and `demo`; values are checked by config.ts like the file's. */
export function addServeOptions(command: Command, defaults: ServeDefaults): Command {
  return command
    .option('--config <file>', 'JSON settings file (or LIVEREC_CONFIG)')
    .option('--port <n>', `TCP port, 0 = any free port (default ${defaults.port}; LIVEREC_PORT)`)
    .option('--host <address>', `interface to bind; 0.0.0.0 exposes it to the network (default ${defaults.host}; LIVEREC_HOST)`)
    .option('--cors-origins <list>', 'origins browsers may call from, comma-separated, * for any, or off (LIVEREC_CORS_ORIGINS)')
    .option('--rate-limit <rps[/burst]>', 'token bucket per API key or client IP, e.g. 50 or 50/100, or off (LIVEREC_RATE_LIMIT)')
    .option('--log <json|off>', `one JSON line per request on stdout (default ${defaults.log}; LIVEREC_LOG)`)
    .option('--max-body-bytes <n>', 'larger request bodies get 413 (default 4194304)')
    .option('--busy-timeout <ms>', `how long a write waits for a locked database before answering 503 (default ${DEFAULT_BUSY_TIMEOUT_MS})`);
}

/**
 * Listens until SIGINT or SIGTERM, then shuts down in dependency order: stop taking requests
 * (in-flight ones finish), stop the engine (awaiting any retrain), close the store, exit 0.
 * Returns the bound URL once listening.
 */
export async function serve(store: Store, engine: Engine, settings: ServeSettings & { db: string }, out: Io): Promise<string> {
  // The HTTP stack is loaded only by the commands that serve.
  const [{ createApp }, { listen }] = await Promise.all([import('../server/app.ts'), import('../server/listen.ts')]);
  // A database file's path feeds the DB-size gauge of /metrics (PostgreSQL reports its own sizes).
  const app = createApp(engine, { ...settings.app, metrics: store.maintenance ? { dbPath: settings.db } : {} });
  let server;
  try {
    server = await listen(app, { port: settings.port, host: settings.host });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${server.port}`;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.err(`${signal}: shutting down…\n`);
    try {
      await server.close();
      await engine.close();
      await store.close();
      process.exit(0);
    } catch (err) {
      out.err(`liverec: shutdown failed: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  out.err(describeSettings(settings));
  out.out(`liverec listening on ${url}\n`);
  return url;
}
