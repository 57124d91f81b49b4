/**
 * `liverec import` and `liverec serve` under one configuration: pseudonymous ids applied the same
 * way by both, and the production options (CORS, rate limit, JSON logs, body limit, keys) reaching
 * the running server from the config file and the environment.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { NotFoundError } from '../../src/store/errors.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { BIN, cli, tempDir } from './helpers.ts';

const tmp = tempDir();
const db = tmp.path('salted.db');
const SALT = 'shared-salt-0123456789-abcdef';
const KEY = 'write-key-0123456789';
const ALICE = 'alice.secret@example.com';

// Two tastes; Alice buys like u1 (a, b) and has not seen c.
const FEEDBACK = [
  'userId,itemId,type',
  ...['u1,a', 'u1,b', 'u2,a', 'u2,b', 'u2,c', 'u3,b', 'u3,c', 'u3,a'].map((pair) => `${pair},purchase`),
  ...['u4,x', 'u4,y', 'u5,x', 'u5,y', 'u5,z', 'u6,y', 'u6,z', 'u6,x'].map((pair) => `${pair},purchase`),
  `${ALICE},a,purchase`,
  `${ALICE},b,purchase`,
].join('\n');

const configFile = tmp.write(
  'liverec.json',
  JSON.stringify({
    cors: { origins: ['https://shop.example'] },
    rateLimit: { requestsPerSecond: 0.01, burst: 3 },
    maxBodyBytes: 2048,
    engine: { pseudonymSalt: SALT, retrainMinutes: 0, retrainEvery: 0 },
  }),
);

/** Every byte of the database and its side files, as latin1 text, to search for an id. */
function fileText(path: string): string {
  return ['', '-wal', '-shm'].map((suffix) => (existsSync(path + suffix) ? readFileSync(path + suffix).toString('latin1') : '')).join('');
}

beforeAll(async () => {
  const imported = await cli('import', '--db', db, '--feedback', tmp.write('feedback.csv', FEEDBACK + '\n'), '--config', configFile);
  expect(imported).toMatchObject({ code: 0, stdout: 'feedback.csv: 18 events accepted, 0 duplicates, 0 rejected\n' });
  expect(imported.stderr).toContain('pseudonymous ids: user ids are stored as HMAC-SHA-256 pseudonyms');
  expect(imported.stderr).not.toContain(SALT);
  expect((await cli('train', '--db', db, '--algorithm', 'item-knn')).code).toBe(0);
});

describe('import with a pseudonym salt', () => {
  it('stores no raw user id anywhere in the database file', () => {
    const text = fileText(db);
    expect(text).not.toContain(ALICE);
    expect(text).not.toContain('alice');
    expect(text).toContain('p:'); // the pseudonyms are there instead
  });

  it('is found by an engine opened with the same salt, and only by it', async () => {
    const store = SqliteStore.open(db);
    const salted = await Engine.open(store, { pseudonymSalt: SALT, retrainMinutes: 0, retrainEvery: 0 });
    try {
      expect((await salted.exportUser(ALICE)).feedback.map((e) => e.itemId)).toEqual(['a', 'b']);
      expect((await salted.profile(ALICE)).interactions).toBe(2);
      expect((await salted.recommend(ALICE, { n: 1 })).recommendations.map((r) => r.itemId)).toEqual(['c']);
    } finally {
      await salted.close();
    }
    const plain = await Engine.open(store, { retrainMinutes: 0, retrainEvery: 0 });
    try {
      await expect(plain.exportUser(ALICE)).rejects.toThrow(NotFoundError);
    } finally {
      await plain.close();
      await store.close();
    }
  });

  it('liverec recommend --config folds in the same history', async () => {
    const salted = await cli('recommend', ALICE, '--db', db, '--n', '2', '--json', '--config', configFile);
    expect(salted.code).toBe(0);
    expect(JSON.parse(salted.stdout).recommendations.map((r: { itemId: string }) => r.itemId)).not.toContain('a');
    // Without the salt Alice is a stranger and gets the most popular items, a among them.
    const plain = await cli('recommend', ALICE, '--db', db, '--n', '2', '--json');
    expect(JSON.parse(plain.stdout).recommendations.map((r: { itemId: string }) => r.itemId)).toContain('a');
  });
});

describe('liverec serve with --config and environment variables', () => {
  let url: string;
  let child: ReturnType<typeof spawn>;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    // The salt from the environment this time: both sources must give the same pseudonyms.
    const env: NodeJS.ProcessEnv = { ...process.env, LIVEREC_API_KEY: KEY, LIVEREC_PSEUDONYM_SALT: SALT, LIVEREC_CONFIG: configFile, LIVEREC_LOG: '' };
    delete env.LIVEREC_READ_KEY;
    child = spawn(process.execPath, [BIN, 'serve', '--db', db, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((resolve) => child.once('exit', resolve));
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]);
      });
      void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  const authorized = { authorization: `Bearer ${KEY}` };

  it("finds the imported user's history by the raw id", async () => {
    const res = await fetch(`${url}/v1/users/${encodeURIComponent(ALICE)}/export`, { headers: authorized });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.feedback.map((e: { itemId: string }) => e.itemId)).toEqual(['a', 'b']);
  });

  it('exposes /metrics with the size of its database file and write-ahead log', async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const size = Number(/^liverec_db_size_bytes (\d+)$/m.exec(await res.text())?.[1]);
    const onDisk = statSync(db).size + (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0);
    // The WAL may grow between the scrape and the stat (the server's own writes), never shrink below the file.
    expect(size).toBeGreaterThanOrEqual(statSync(db).size);
    expect(size).toBeLessThanOrEqual(onDisk);
  });

  it('requires the API key from the environment on writes', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ userId: 'u9', itemId: 'x', type: 'view' }) });
    expect((await post({})).status).toBe(401);
    expect((await post(authorized)).status).toBe(200);
  });

  it('answers CORS preflights for the configured origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/v1/feedback`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const allowed = await preflight('https://shop.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses bodies over maxBodyBytes with 413', async () => {
    const big = JSON.stringify([{ userId: 'u', itemId: 'i', type: 'view', pad: 'x'.repeat(4096) }]);
    const res = await fetch(`${url}/v1/feedback`, { method: 'POST', headers: { ...authorized, 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
  });

  it('rate-limits clients without a key by address: burst 3, then 429 with Retry-After', async () => {
    // Earlier keyless requests (the 401 above) drew from the same address's bucket, so count
    // passes until the first refusal: at most the burst, and a refusal by the burst + 1st request.
    let passed = 0;
    let limited = await fetch(`${url}/v1/popular?n=1`);
    while (limited.status === 200 && passed < 4) {
      passed++;
      limited = await fetch(`${url}/v1/popular?n=1`);
    }
    expect(passed).toBeLessThanOrEqual(3);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // /health stays open for load balancers.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('logs one JSON line per request with a request id, and prints no secret', async () => {
    const res = await fetch(`${url}/health`, { headers: { 'x-request-id': 'trace-me-42' } });
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const entries = lines.map((line) => JSON.parse(line));
    for (const entry of entries) expect(entry).toMatchObject({ level: expect.any(String), requestId: expect.any(String), method: expect.any(String), status: expect.any(Number) });
    expect(entries).toContainEqual(expect.objectContaining({ requestId: 'trace-me-42', path: '/health', status: 200 }));
    expect(stderr).toContain('settings: log json · cors https://shop.example · rate limit 0.01/s burst 3 · keys writes · pseudonymous ids on');
    for (const secret of [SALT, KEY]) expect(stdout + stderr).not.toContain(secret);
    // The raw id was sent in a URL path; the log keeps paths, so it is the one place it may appear.
    expect(fileText(db)).not.toContain(ALICE);
  });
});
