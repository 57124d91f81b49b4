/**
 * The backends the store contract suite runs against: each opens a new, empty store and offers
 * the raw access a test needs behind the store's back (corrupting bytes, searching every column).
 * A new backend is one more entry here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { PostgresStore } from '../../src/store/postgres.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { freshDatabase } from '../support/postgres.ts';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A new, empty store; closed by `closeAll`. */
  open(): Promise<Store>;
  /** Overwrites the stored bytes of a saved model without touching its checksum. */
  corruptModel(store: Store, version: number): Promise<void>;
  /** `table.column` of every stored value whose text contains `needle` (every table, every column). */
  columnsContaining(store: Store, needle: string): Promise<string[]>;
}

const cleanups: Array<() => Promise<void> | void> = [];

/** Closes every store and raw connection the backends opened, and removes their files. */
export async function closeAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liverec-contract-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = await SqliteStore.open(path.join(dir, 'liverec.db'));
    cleanups.push(() => store.close());
    return store;
  },
  async corruptModel(store, version) {
    withSqlite(store, (db) => db.prepare('UPDATE models SET bytes = ? WHERE version = ?').run(Buffer.from([1, 2, 4]), version));
  },
  async columnsContaining(store, needle) {
    return withSqlite(store, (db) => {
      const found: string[] = [];
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      for (const table of tables) {
        for (const { name } of db.pragma(`table_info("${table}")`) as Array<{ name: string }>) {
          const hits = db.prepare(`SELECT count(*) FROM "${table}" WHERE instr(CAST("${name}" AS TEXT), ?) > 0`).pluck().get(needle) as number;
          if (hits > 0) found.push(`${table}.${name}`);
        }
      }
      return found;
    });
  },
};

const pg: Backend = {
  name: 'postgres',
  async open() {
    const store = await PostgresStore.open(await freshDatabase());
    cleanups.push(() => store.close());
    return store;
  },
  async corruptModel(store, version) {
    await withPostgres(store, (sql) => sql`UPDATE model_chunks SET bytes = '\\x010204'::bytea WHERE version = ${version}`);
  },
  async columnsContaining(store, needle) {
    return withPostgres(store, async (sql) => {
      const columns = await sql<Array<{ table: string; column: string }>>`
        SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`;
      const found: string[] = [];
      for (const { table, column } of columns) {
        const [{ hits }] = await sql<Array<{ hits: number }>>`
          SELECT count(*)::int AS hits FROM ${sql(table)} WHERE strpos(${sql(column)}::text, ${needle}) > 0`;
        if (hits > 0) found.push(`${table}.${column}`);
      }
      return found;
    });
  },
};

export const BACKENDS: readonly Backend[] = [sqlite, pg];

/** A raw connection to the store's database for test-only SQL. */
export function rawPostgres(store: Store): postgres.Sql {
  const sql = postgres(store.location()!, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 1 }));
  return sql;
}

function withSqlite<T>(store: Store, fn: (db: Database.Database) => T): T {
  const db = new Database(store.location()!);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

async function withPostgres<T>(store: Store, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(store.location()!, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
