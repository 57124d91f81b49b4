/**
 * Vitest global setup: one private PostgreSQL for the whole run (see ./postgres.ts), its URL
 * provided as `postgresUrl`, stopped at teardown. Missing binaries fail the run: the store
 * contract suite must run against a real server, never skip.
 */
import type { TestProject } from 'vitest/node';
import { startCluster } from './postgres.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster();
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
