/**
 * A private PostgreSQL for tests: `initdb` into a fresh temporary directory and one `postgres`
 * process on a free loopback port (its unix socket in that directory too), fsync off. The global
 * setup (test/support/postgres-global.ts) starts one for the whole run and provides its URL;
 * `freshDatabase()` gives a test (or a file) a database of its own. Tests that need to watch the
 * server go away start a second cluster of their own with `startCluster()`.
 *
 * The cluster itself lives in ./postgres-cluster.ts, which does not import vitest, so plain
 * scripts (bench/drills/replicas.ts, bench/throughput.ts) can start one too.
 */
import { inject } from 'vitest';
import { createDatabase } from './postgres-cluster.ts';

export { freePort, postgresBinDir, startCluster, type Cluster } from './postgres-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the run's PostgreSQL (database `postgres`); create databases off it with freshDatabase(). */
    postgresUrl: string;
  }
}

/** Creates a uniquely named database on the run's server (or `baseUrl`) and returns its URL. */
export function freshDatabase(baseUrl: string = inject('postgresUrl')): Promise<string> {
  return createDatabase(baseUrl);
}
