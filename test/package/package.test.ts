/**
 * The package as a user gets it: the tarball `npm pack` makes, installed into a fresh project and
 * used there with plain `node` — the library, the CLI, the types (tsc under node16 and bundler
 * resolution) and examples/embed.ts. One install (in beforeAll) serves every test.
 *
 * Packs with --ignore-scripts: `npm test` has just built (pretest), and prepack's rebuild would
 * wipe dist/ under the CLI tests running in parallel. better-sqlite3's install script looks for a
 * local prebuild before compiling (prebuild-install's documented `local-prebuilds` setting): the
 * one this repository compiled at `npm ci` is offered there, which turns about two minutes of
 * compiling into seconds. Should its name not match, it compiles, only slower.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'liverec-package-'));
const project = join(tmp, 'project');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}
let packed: Packed;

/** Runs a command in the installed project; fails the test with its output when it exits non-zero. */
function sh(command: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, { cwd: project, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * An ES module run by plain node in the project (no loader), its stdout parsed as JSON. From a
 * file, not `--input-type=module -e`: worker threads inherit that flag and refuse to start.
 */
function nodeJson(name: string, source: string): any {
  writeFileSync(join(project, name), source);
  return JSON.parse(sh(process.execPath, [name]));
}

/** better-sqlite3's compiled addon, tarred under the name prebuild-install looks for. */
function localPrebuild(dir: string): string {
  const addon = dirname(createRequire(join(ROOT, 'package.json')).resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(addon, 'package.json'), 'utf8'));
  mkdirSync(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, name), '-C', addon, 'build/Release/better_sqlite3.node']);
  return dir;
}

beforeAll(() => {
  const started = performance.now();
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' });
  packed = JSON.parse(out)[0];

  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }),
  );
  const tools = ['typescript', '@types/node'].map((name) => `${name}@${pkg.devDependencies[name]}`);
  const peers = ['hono', '@hono/node-server'].map((name) => `${name}@${pkg.dependencies[name]}`);
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, packed.filename), ...tools, ...peers], {
    npm_config_better_sqlite3_local_prebuilds: localPrebuild(join(tmp, 'prebuilds')),
  });
  console.log(
    `package test: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed ` +
      `(${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked), packed and installed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}, 600_000);

describe('the tarball', () => {
  it('holds the compiled library, CLI, core, client bundle and dashboard, and nothing from development', () => {
    const paths = packed.files.map((file) => file.path);
    for (const path of [
      'bin/liverec.mjs',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/client/index.d.ts',
      'dist/engine/fit-thread.js',
      'dist/wasm/pool-worker.mjs',
      'dist/server/docs/docs.css',
      'build/liverec.wasm',
      'build/client.js',
      'dashboard/index.html',
    ]) {
      expect(paths).toContain(path);
    }
    const development = paths.filter((path) => /^(src|test|bench|assembly|examples|scripts|data)\/|\.wat$|fit-thread\.mjs$|^dist\/.*\.ts$(?<!\.d\.ts)/.test(path));
    expect(development).toEqual([]);
  });

  it('needs neither tsx nor the WebAssembly compiler at run time', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/liverec/package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies)).not.toContain('tsx');
    expect(Object.keys(installed.dependencies)).not.toContain('assemblyscript');
  });
});

describe('the library under plain node', () => {
  it('exposes the engine, the app and the model API; internal modules are not reachable', () => {
    const result = nodeJson('library.mjs', `
      const liverec = await import('liverec');
      const client = await import('liverec/client');
      const internal = await import('liverec/dist/engine/engine.js').then(() => 'imported', (error) => error.code);
      const data = liverec.Interactions.from([
        { userId: 'u1', itemId: 'a', value: 1 }, { userId: 'u1', itemId: 'b', value: 1 },
        { userId: 'u2', itemId: 'a', value: 1 }, { userId: 'u2', itemId: 'c', value: 1 },
      ]);
      // Two threads: the pool's worker (dist/wasm/pool-worker.mjs) must start from the package.
      const model = await liverec.createModel('implicit-als', { factors: 2, iterations: 2, threads: 2 }).fitAsync(data);
      const restored = liverec.loadModel(model.save());
      console.log(JSON.stringify({
        library: Object.keys(liverec).sort(),
        client: Object.keys(client).sort(),
        internal,
        recommended: restored.recommend('u1', { n: 1 }).length,
      }));
      model.dispose();
      restored.dispose();
    `);
    expect(result.library).toEqual(expect.arrayContaining(['Engine', 'SqliteStore', 'createApp', 'createModel', 'loadModel', 'Interactions', 'ALGORITHMS']));
    expect(result.client).toEqual(['LiverecError', 'createClient']);
    expect(result.internal).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(result.recommended).toBe(1);
  });
});

describe('the CLI', () => {
  const db = () => join(project, 'shop.db');

  it('npx liverec --help lists the commands', () => {
    const help = sh('npx', ['--no', '--', 'liverec', '--help']);
    for (const command of ['import', 'train', 'serve', 'demo']) expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('demo explains that its data ships with the repository only', () => {
    const demo = spawnSync('npx', ['--no', '--', 'liverec', 'demo', '--db', join(project, 'demo.db'), '--port', '0'], { cwd: project, encoding: 'utf8' });
    expect(demo.status).toBe(1);
    expect(demo.stderr).toMatch(/^liverec: the demo's MovieLens sample ships with the repository, not the npm package/m);
  });

  it('imports, trains (on its worker thread) and serves the API, dashboard and docs', async () => {
    const feedback = ['userId,itemId,type', ...['u1,a', 'u1,b', 'u2,a', 'u2,b', 'u2,c', 'u3,x', 'u3,y'].map((pair) => `${pair},purchase`)];
    writeFileSync(join(project, 'feedback.csv'), feedback.join('\n') + '\n');
    expect(sh('npx', ['--no', '--', 'liverec', 'import', '--db', db(), '--feedback', 'feedback.csv'])).toMatch(/7 events accepted/);
    expect(JSON.parse(sh('npx', ['--no', '--', 'liverec', 'train', '--db', db(), '--algorithm', 'item-knn', '--json']))).toMatchObject({ version: 1 });

    const server = spawn(join(project, 'node_modules/.bin/liverec'), ['serve', '--db', db(), '--port', '0', '--log', 'off'], { cwd: project });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        server.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]);
        });
        server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(await (await fetch(`${url}/v1/users/u1/recommendations?n=1`)).json()).toMatchObject({ modelVersion: 1, recommendations: [{ itemId: 'c' }] });
      const dashboard = await fetch(`${url}/dashboard`);
      expect([dashboard.status, await dashboard.text()]).toEqual([200, expect.stringContaining('<html')]);
      expect((await fetch(`${url}/dashboard/assets/vendor/chart.umd.min.js`)).status).toBe(200);
      const docs = await fetch(`${url}/docs`);
      expect(docs.status).toBe(200);
      const client = nodeJson('client.mjs', `
        const { createClient } = await import('liverec/client');
        console.log(JSON.stringify(await createClient({ baseUrl: ${JSON.stringify(url)} }).health()));
      `);
      expect(client).toMatchObject({ status: 'ok', model: { version: 1 } });
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('serve --create starts a new shop on an empty database', async () => {
    const server = spawn(join(project, 'node_modules/.bin/liverec'), ['serve', '--db', join(project, 'new-shop.db'), '--create', '--port', '0', '--log', 'off'], { cwd: project });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        server.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]);
        });
        server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: 'ok', model: { version: null }, items: 0, feedback: 0 });
      const posted = await fetch(`${url}/v1/feedback`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u1', itemId: 'p1', type: 'purchase' }),
      });
      expect(await posted.json()).toMatchObject({ accepted: 1, userId: 'u1' });
    } finally {
      server.kill('SIGTERM');
    }
  });
});

describe('the types and the example', () => {
  const configs = {
    node16: { module: 'node16', moduleResolution: 'node16', outDir: 'out' },
    bundler: { module: 'esnext', moduleResolution: 'bundler', noEmit: true },
  };

  beforeAll(() => {
    mkdirSync(join(project, 'src'));
    copyFileSync(join(ROOT, 'examples/embed.ts'), join(project, 'src/embed.ts'));
    writeFileSync(
      join(project, 'src/uses.ts'),
      // The @ts-expect-error lines fail the compile should the types ever degrade to \`any\`.
      `import { Engine } from 'liverec';
import { createClient, LiverecError, type Profile, type RecommendationsQuery } from 'liverec/client';
const client = createClient({ baseUrl: 'https://recs.example.com' });
const query: RecommendationsQuery = { n: 5, explain: true };
// @ts-expect-error n is a number
export const wrongQuery: RecommendationsQuery = { n: '5' };
// @ts-expect-error an engine opens on a Store, not a path
export const wrongOpen = () => Engine.open('shop.db');
export async function interests(userId: string): Promise<Profile['topCategories'] | null> {
  try {
    await client.recommendations(userId, query);
    return (await client.profile(userId)).topCategories;
  } catch (e) {
    if (e instanceof LiverecError && e.status === 404) return null;
    throw e;
  }
}
`,
    );
    for (const [name, options] of Object.entries(configs)) {
      const compilerOptions = { target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], lib: ['es2022', 'dom'], ...options };
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, include: ['src'] }));
    }
  });

  it.each(Object.keys(configs))('compile with tsc under moduleResolution %s', (name) => {
    const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${name}.json`], { cwd: project, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
    // A hang guard, not a speed check: tsc over the installed types takes tens of seconds on a busy 2-core machine.
  }, 180_000);

  // Runs what the node16 compile above emitted.
  it('examples/embed.ts, compiled, trains, recommends and answers through Hono and node:http', () => {
    const stdout = sh(process.execPath, ['out/embed.js', join(project, 'example.db')]);
    expect(stdout).toMatch(/^trained item-knn version 1$/m);
    // The visitor bought a tent: the rest of the outdoor gear comes first, in either order.
    expect(stdout).toMatch(/^after buying a tent: (stove, lamp|lamp, stove)$/m);
    expect(stdout).toMatch(/^recommend: (stove, lamp|lamp, stove)$/m);
    expect(stdout).toMatch(/^hono: 200 \{"userId":"visitor","modelVersion":1,"recommendations":\[\{"itemId":"(stove|lamp)"/m);
    expect(stdout).toMatch(/^node:http: 200 \{"recommendations":\[\{"itemId":"tent"/m);
  });
});
