import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportError } from '../../src/cli/errors.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { bin, cli, start, tempDir } from './helpers.ts';

const tmp = tempDir();
const db = tmp.path('shop.db');

// Two tastes: u1–u3 like a/b/c, u4–u6 like x/y/z; u1 has not seen c yet.
const FEEDBACK = [
  'userId,itemId,type',
  ...['u1,a', 'u1,b', 'u2,a', 'u2,b', 'u2,c', 'u3,b', 'u3,c', 'u3,a'].map((pair) => `${pair},purchase`),
  ...['u4,x', 'u4,y', 'u5,x', 'u5,y', 'u5,z', 'u6,y', 'u6,z', 'u6,x'].map((pair) => `${pair},purchase`),
].join('\n');

beforeAll(async () => {
  const imported = await cli('import', '--db', db, '--feedback', tmp.write('feedback.csv', FEEDBACK + '\n'));
  expect(imported.code).toBe(0);
});

describe('train and recommend', () => {
  it('recommend before any training answers from popularity', async () => {
    const { code, stdout } = await cli('recommend', 'u1', '--db', db, '--n', '2', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ userId: 'u1', modelVersion: null });
  });

  it('train fits on the stored feedback and saves version 1', async () => {
    const { code, stdout } = await cli('train', '--db', db, '--algorithm', 'item-knn', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ version: 1, status: 'ready', algorithm: 'item-knn' });
    const store = SqliteStore.open(db);
    expect((await store.latestModels())[0]).toMatchObject({ version: 1, algorithm: 'item-knn' });
    await store.close();
  });

  it('a second train without flags keeps the stored algorithm', async () => {
    const { stdout } = await cli('train', '--db', db, '--json');
    expect(JSON.parse(stdout)).toMatchObject({ version: 2, algorithm: 'item-knn' });
  });

  it("recommend lists the user's unseen item from their taste first", async () => {
    const { code, stdout } = await cli('recommend', 'u1', '--db', db, '--n', '1', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ userId: 'u1', modelVersion: 2, recommendations: [{ itemId: 'c' }] });
    const table = await cli('recommend', 'u1', '--db', db, '--n', '1');
    expect(table.stdout).toMatch(/^rank +item +score/m);
  });

  it('rejects a parameter the algorithm does not take, and a missing database', async () => {
    const bad = await cli('train', '--db', db, '--algorithm', 'popular', '--factors', '8');
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/^liverec: [^\n]*factors[^\n]*\n$/) });
    const missing = await cli('recommend', 'u1', '--db', tmp.path('nope.db'));
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^liverec: database .*nope\.db does not exist/) });
  });
});

describe('serve', () => {
  it('serves the API and exits 0 on SIGTERM', async () => {
    const server = start(['serve', '--db', db, '--port', '0'], /listening on (http:\/\/\S+)/);
    const [, url] = await server.ready;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const recs = await (await fetch(`${url}/v1/users/u4/recommendations?n=1`)).json();
    expect(recs).toMatchObject({ userId: 'u4', recommendations: [{ itemId: 'z' }] });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses a missing database naming --create, and with --create starts empty and fills over HTTP', async () => {
    const fresh = tmp.path('new-shop.db');
    const refused = await cli('serve', '--db', fresh, '--port', '0');
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^liverec: database .*new-shop\.db does not exist; pass --create/) });
    expect(existsSync(fresh)).toBe(false);

    const server = start(['serve', '--db', fresh, '--create', '--port', '0'], /listening on (http:\/\/\S+)/);
    const [, url] = await server.ready;
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: 'ok', model: { version: null, status: 'empty' }, items: 0, feedback: 0 });
    const json = { 'content-type': 'application/json' };
    const items = await fetch(`${url}/v1/items`, { method: 'POST', headers: json, body: JSON.stringify([{ itemId: 'p1', categories: ['tea'] }, { itemId: 'p2' }]) });
    expect(items.status).toBe(200);
    const events = [{ userId: 'u1', itemId: 'p1', type: 'purchase' }, { userId: 'u2', itemId: 'p1', type: 'click' }];
    const posted = await fetch(`${url}/v1/feedback`, { method: 'POST', headers: json, body: JSON.stringify(events) });
    expect(await posted.json()).toMatchObject({ accepted: 2, duplicates: 0 });
    const recs = await (await fetch(`${url}/v1/users/u3/recommendations?n=1`)).json();
    expect(recs).toMatchObject({ userId: 'u3', modelVersion: null, recommendations: [{ itemId: 'p1' }] });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(fresh)).toBe(true);
  });
});

describe('help', () => {
  it('lists every command', () => {
    const { code, stdout } = bin('--help');
    expect(code).toBe(0);
    for (const command of ['eval', 'import', 'train', 'recommend', 'serve', 'demo']) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it.each(['eval', 'import', 'train', 'recommend', 'serve', 'demo'])('%s --help exits 0 with usage', async (command) => {
    const { code, stdout } = await cli(command, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: liverec ${command}`));
  });
});

describe('error reporting', () => {
  it('shows a missing WebAssembly build as one line, and bugs with their stack', () => {
    let text = '';
    const write = (s: string) => void (text += s);
    expect(reportError(new Error('WebAssembly core not built: build/liverec.wasm is missing; run `npm run build:wasm`'), write)).toBe(1);
    expect(text).toBe('liverec: WebAssembly core not built: build/liverec.wasm is missing; run `npm run build:wasm`\n');
    text = '';
    expect(reportError(new TypeError('x is undefined'), write)).toBe(1);
    expect(text).toMatch(/^liverec: internal error: TypeError: x is undefined\n\s+at /);
  });
});
