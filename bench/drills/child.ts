/**
 * Starting `bin/liverec.mjs` as a child process the way an operator would, and reading back the
 * URL it prints (the same contract test/cli/helpers.ts relies on: "liverec listening on <url>").
 * Shared by the drills; every process here is started by the drill and stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ROOT } from '../lib.ts';

export const BIN = join(ROOT, 'bin/liverec.mjs');

/** The WebAssembly core must be built (`npm run build:wasm`) before any server can start. */
export function requireWasm(): void {
  if (!existsSync(join(ROOT, 'build/liverec.wasm'))) {
    throw new Error('build/liverec.wasm is missing: run `npm run build:wasm` first');
  }
}

/** Runs the CLI to completion; throws with its stderr when it fails. */
export function liverec(...args: string[]): { stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (child.status !== 0) {
    throw new Error(`liverec ${args.join(' ')} failed (${child.status ?? child.signal}): ${child.stderr}`);
  }
  return { stdout: child.stdout, stderr: child.stderr };
}

export interface ServerChild {
  child: ChildProcessByStdio<null, Readable, Readable>;
  pid: number;
  url: string;
  /** Milliseconds from spawn to the "listening" line. */
  startMs: number;
  /** What the process wrote to stderr so far, less its startup settings line. */
  stderr(): string;
  stdout(): string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it has exited (for "it died on its own" checks). */
  hasExited(): boolean;
}

/**
 * Spawns `liverec <args>` and resolves once it prints its URL. Rejects (after killing it) when it
 * exits first or stays silent for `timeoutMs`.
 */
export function startServer(args: string[], timeoutMs = 120_000): Promise<ServerChild> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`liverec ${args.join(' ')} printed no URL within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (match && child.pid !== undefined) {
        clearTimeout(timer);
        resolve({
          child,
          pid: child.pid,
          url: match[1],
          startMs: performance.now() - started,
          // The one line `serve` prints at start (its settings, never secrets) is not a problem report.
          stderr: () => stderr.replace(/^settings: .*\n?/m, ''),
          stdout: () => stdout,
          exited,
          hasExited: () => done,
        });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`liverec ${args.join(' ')} exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
}

/** SIGTERM (graceful) and wait, escalating to SIGKILL after `graceMs`. Only ever this child's PID. */
export async function stopServer(server: ServerChild, graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; graceful: boolean }> {
  if (server.hasExited()) return { ...(await server.exited), graceful: false };
  process.kill(server.pid, 'SIGTERM');
  const timer = setTimeout(() => !server.hasExited() && process.kill(server.pid, 'SIGKILL'), graceMs);
  const result = await server.exited;
  clearTimeout(timer);
  return { ...result, graceful: result.code === 0 };
}

/** GET `url` and parse JSON; throws on a non-2xx answer. */
export async function getJson<T = Record<string, unknown>>(url: string, timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Deterministic PRNG (mulberry32) so a drill's traffic can be replayed with --seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [lo, hi]. */
export function between(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** Integer flag `--name`, checked. */
export function intArg(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One JSON request; resolves with the status and parsed body (null when the body is not JSON)
 * and rejects only on a transport failure (connection refused or reset, timeout).
 */
export async function requestJson<T = Record<string, unknown>>(
  method: string, url: string, body?: unknown, timeoutMs = 10_000,
): Promise<{ status: number; body: T | null }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: T | null = null;
  try {
    parsed = JSON.parse(text) as T;
  } catch {
    // Not JSON (e.g. a proxy's error page): the status says enough.
  }
  return { status: res.status, body: parsed };
}
