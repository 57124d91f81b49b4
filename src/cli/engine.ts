import { existsSync } from 'node:fs';
import type { EngineConfig, EngineConfigInput } from '../engine/config.ts';
import type { Engine } from '../engine/engine.ts';
import type { Algorithm } from '../model/index.ts';
import { isPostgresUrl, openStore } from '../store/open.ts';
import type { OpenOptions } from '../store/sqlite.ts';
import type { Store } from '../store/types.ts';
import { CliError } from './errors.ts';

/**
 * Opens a database that must already exist: for train/recommend/serve a typo in --db should
 * be an error, not a fresh empty database. A PostgreSQL URL names a database the operator
 * created; its tables are created on first use.
 */
export async function openExisting(location: string, options: OpenOptions & { create?: boolean } = {}): Promise<Store> {
  // Without --create a missing file is a typo until proven otherwise: refuse rather than serve an empty database.
  if (!isPostgresUrl(location) && !options.create && !existsSync(location)) {
    throw new CliError(
      `database ${location} does not exist; pass --create to start an empty one (then fill it over HTTP), or create it with \`liverec import --db ${location} …\``,
    );
  }
  return openStore(location, options);
}

/**
 * The engine's algorithm and params: the flags when any is given, else those of the newest
 * stored model, so `train` and the server's background retrains keep what was chosen before.
 */
export async function modelConfig(store: Store, algorithm: Algorithm | undefined, params: Record<string, unknown>): Promise<Partial<EngineConfig>> {
  const latest = (await store.latestModels())[0];
  const chosen = algorithm ?? (latest?.algorithm as Algorithm | undefined);
  if (algorithm !== undefined || Object.keys(params).length > 0) return chosen ? { algorithm: chosen, params } : { params };
  return latest ? { algorithm: latest.algorithm as Algorithm, params: latest.params } : {};
}

/**
 * Configured engine settings over the stored model's: an algorithm or params from the config
 * file win (as flags do in `train`); without them the newest stored model's choice is kept.
 */
export async function engineConfig(store: Store, config: EngineConfigInput): Promise<EngineConfigInput> {
  const { algorithm, params, ...rest } = config;
  return { ...rest, ...(await modelConfig(store, algorithm, params ?? {})) };
}

/** Runs `fn`, then closes the store whatever happened. */
export async function withStore<T>(store: Store, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } finally {
    await store.close();
  }
}

/**
 * The engine, loaded on first use: eval and import need neither it nor its worker threads, so
 * they start faster and keep working while engine code is being changed.
 */
export async function openEngine(store: Store, config: EngineConfigInput): Promise<Engine> {
  const { Engine } = await import('../engine/engine.ts');
  return Engine.open(store, config);
}
