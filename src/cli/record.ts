import { SqliteStore } from '../store/sqlite.ts';

/** Stores an evaluation summary in a database, so the server's dashboard can show the last runs. */
export function record(db: string, kind: 'eval' | 'replay', summary: Record<string, unknown>): void {
  const store = SqliteStore.open(db);
  try {
    store.addEvaluation(kind, summary);
  } finally {
    store.close();
  }
}
