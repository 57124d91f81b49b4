import type { Command } from 'commander';
import type { Engine } from '../engine/engine.ts';
import type { Store } from '../store/types.ts';
import { modelConfig, openEngine, openExisting } from './engine.ts';
import { io, type Io } from './io.ts';
import { port } from './options.ts';

interface ServeOptions { db: string; port: number; host: string }

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('serve the HTTP API over a database')
    .description(
      'Serves the HTTP API. Set LIVEREC_API_KEY to require `Authorization: Bearer <key>` on writes, and LIVEREC_READ_KEY to require a key on reads too. SIGINT/SIGTERM stop it gracefully: in-flight requests finish, a running retrain is awaited, then the database is closed.',
    )
    .requiredOption('--db <file>', 'SQLite database file')
    .option('--port <n>', 'TCP port (0 = any free port)', port, DEFAULT_PORT)
    .option('--host <address>', 'interface to bind; 0.0.0.0 exposes it to the network', DEFAULT_HOST)
    .action(async (options: ServeOptions, command: Command) => {
      const store = openExisting(options.db);
      try {
        const engine = await openEngine(store, modelConfig(store, undefined, {}));
        await serve(store, engine, options, io(command));
      } catch (err) {
        store.close();
        throw err;
      }
    });
}

/**
 * Listens until SIGINT or SIGTERM, then shuts down in dependency order: stop taking requests
 * (in-flight ones finish), stop the engine (awaiting any retrain), close the store, exit 0.
 * Returns the bound URL once listening.
 */
export async function serve(store: Store, engine: Engine, options: { port: number; host: string }, out: Io): Promise<string> {
  // The HTTP stack is loaded only by the commands that serve.
  const [{ createApp }, { listen }] = await Promise.all([import('../server/app.ts'), import('../server/listen.ts')]);
  const app = createApp(engine, {
    // An empty variable means "no key", not "the empty key".
    apiKey: process.env.LIVEREC_API_KEY || undefined,
    readKey: process.env.LIVEREC_READ_KEY || undefined,
  });
  let server;
  try {
    server = await listen(app, { port: options.port, host: options.host });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${server.port}`;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.err(`${signal}: shutting down…\n`);
    try {
      await server.close();
      await engine.close();
      store.close();
      process.exit(0);
    } catch (err) {
      out.err(`liverec: shutdown failed: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  out.out(`liverec listening on ${url}\n`);
  return url;
}
