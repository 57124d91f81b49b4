// npm run build:dist — compiles src/ to dist/ (ESM, .d.ts, source maps) and copies the files
// tsc does not emit. dist/ is wiped first so a deleted source never lingers in the package.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Starters that register tsx so a .ts worker runs from src; compiled code starts the .js directly. */
const SOURCE_ONLY = new Set(['engine/fit-thread.mjs']);

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || extname(entry.name) === '.ts') continue;
  const path = relative(src, join(entry.parentPath, entry.name));
  if (!SOURCE_ONLY.has(path.split('\\').join('/'))) cpSync(join(src, path), join(dist, path));
}
