import { openStore } from '../store/open.ts';

/** Stores an evaluation summary in a database, so the server's dashboard can show the last runs. */
export async function record(db: string, kind: 'eval' | 'replay', summary: Record<string, unknown>): Promise<void> {
  const store = await openStore(db);
  try {
    await store.addEvaluation(kind, summary);
  } finally {
    await store.close();
  }
}
