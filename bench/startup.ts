/**
 * Start-up time of `liverec serve`: from spawning the process to the first 200 on /health, on
 * the demo database (ml-latest-small imported and an implicit-ALS model trained, as
 * `npm run demo` leaves it). Two ways to run the same CLI:
 *   - tsx: the TypeScript sources through tsx's loader, as bin/liverec.mjs ran before the package
 *     was compiled (`node --import tsx/esm src/cli.ts`);
 *   - compiled: `node bin/liverec.mjs`, the compiled dist/ an installed package runs.
 * Rounds alternate the two so drifting load hits both alike; one untimed round of each first
 * (disk cache, tsx's transform cache), so both are measured warm.
 *
 *   npm run build && npx tsx bench/startup.ts [--quick] [--rounds 15]
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, distribution, isQuick, ML_SMALL, ROOT, writeResult } from './lib.ts';

const MODES = {
  tsx: ['--import', 'tsx/esm', join(ROOT, 'src/cli.ts')],
  compiled: [join(ROOT, 'bin/liverec.mjs')],
};
type Mode = keyof typeof MODES;

const rounds = Number(arg('rounds', isQuick() ? '3' : '15'));
const POLL_MS = 2;

/** A port nothing listens on now (the OS picks it; released before the server binds it). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Milliseconds from spawn to the first 200 on /health; the server is then stopped. */
async function startup(mode: Mode, db: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...MODES[mode], 'serve', '--db', db, '--port', String(port), '--log', 'off'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk));
  let exited = false;
  child.once('exit', () => void (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${mode}: serve exited before answering: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((res) => res.status === 200, () => false);
      if (ok) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'liverec-startup-'));
try {
  const db = join(dir, 'demo.db');
  const cli = (...args: string[]) => execFileSync(process.execPath, [join(ROOT, 'bin/liverec.mjs'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  cli('import', '--db', db, '--movies', join(ROOT, 'data/ml-latest-small/movies.csv'), '--ratings', ML_SMALL);
  cli('train', '--db', db);

  const times: Record<Mode, number[]> = { tsx: [], compiled: [] };
  for (const mode of Object.keys(MODES) as Mode[]) await startup(mode, db);
  for (let round = 0; round < rounds; round++) {
    for (const mode of Object.keys(MODES) as Mode[]) times[mode].push(await startup(mode, db));
    console.log(`round ${round + 1}/${rounds}: tsx ${times.tsx.at(-1)!.toFixed(0)} ms, compiled ${times.compiled.at(-1)!.toFixed(0)} ms`);
  }
  const startupMs = { tsx: distribution(times.tsx), compiled: distribution(times.compiled) };
  writeResult('startup', {
    method:
      `\`liverec serve --db demo.db --port N\` from spawn to the first 200 on /health (polled every ${POLL_MS} ms), on ml-latest-small ` +
      'imported and trained (implicit ALS) as `npm run demo` leaves it. tsx = the TypeScript sources through tsx\'s loader ' +
      '(`node --import tsx/esm src/cli.ts`, how bin/liverec.mjs ran before the package was compiled); compiled = `node bin/liverec.mjs` ' +
      `(dist/). ${rounds} alternating rounds after one untimed round of each. Times in ms.`,
    rounds,
    results: { startupMs, medianSpeedup: startupMs.tsx.p50 / startupMs.compiled.p50, runsMs: times },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
