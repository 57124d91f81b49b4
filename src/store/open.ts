import { SqliteStore, type OpenOptions } from './sqlite.ts';
import type { Store } from './types.ts';

/** True for the locations PostgreSQL serves: `postgres://…` and `postgresql://…` URLs. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * The store at `location`: a PostgreSQL URL opens the shared backend (loaded only then, so an
 * embedded SQLite server never loads the driver), anything else is a SQLite file path.
 */
export async function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open(location, options);
  }
  return SqliteStore.open(location, options);
}
