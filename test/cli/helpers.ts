import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { run } from '../../src/cli.ts';

export const BIN = fileURLToPath(new URL('../../bin/liverec.mjs', import.meta.url));

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output; `args` as typed after `liverec`. */
export async function cli(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'liverec', ...args], {
    writeOut: (text) => void (stdout += text),
    writeErr: (text) => void (stderr += text),
  });
  return { code, stdout, stderr };
}

/** Runs bin/liverec.mjs in a child process, as `npx liverec` would. */
export function bin(...args: string[]): Result {
  const child = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

/** Starts bin/liverec.mjs in the background; resolves once it prints `pattern` on stdout. */
export function start(args: string[], pattern: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = stdout.match(pattern);
      if (match) resolve(match);
    });
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    void exited.then((code) => reject(new Error(`exited with ${code} before ready: ${stderr}`)));
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

/** A temporary directory removed after the file's tests; `write` puts a file in it. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'liverec-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    path: (name: string) => join(dir, name),
    write(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
