import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = 'very-secret-api-key';

afterEach(() => vi.restoreAllMocks());

/** Captures what the app writes to stdout and stderr as lines. */
function captureOutput() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out, err };
}

describe('X-Request-Id', () => {
  it('is generated for every response when the client sends none', async () => {
    const { call } = setup({ apiKey: KEY });
    const responses = [
      await call('GET', '/health'),
      await call('GET', '/v1/popular'),
      await call('GET', '/v1/popular?n=0'),
      await call('POST', '/v1/model/train'),
      await call('GET', '/nowhere'),
    ];
    expect(responses.map((r) => r.status)).toStrictEqual([200, 200, 400, 401, 404]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(['abc-123_.X', 'a', 'x'.repeat(128), 'req.2024-06-15.00042'])('echoes the sane incoming id %s', async (id) => {
    const { call } = setup();
    const res = await call('GET', '/v1/model', { headers: { 'x-request-id': id } });
    expect(res.headers.get('x-request-id')).toBe(id);
  });

  it.each(['x'.repeat(129), 'has space', 'semi;colon', 'a/b', 'ümlaut', '{"json":1}', 'tab\tinside'])(
    'replaces the unsafe incoming id %j with a fresh one',
    async (id) => {
      const { call } = setup();
      const res = await call('GET', '/v1/model', { headers: { 'x-request-id': id } });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    },
  );

  it('is the requestId of a 500 body and of its log line', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { engine, call } = setup();
    engine.failNext(new Error('kaboom'));
    const generated = await call('GET', '/v1/model');
    expect(generated.status).toBe(500);
    const id = generated.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(generated.body.error.requestId).toBe(id);
    expect(generated.body.error.message).toBe(`internal server error; quote requestId ${id} when reporting it`);

    engine.failNext(new Error('kaboom'));
    const echoed = await call('GET', '/v1/model', { headers: { 'x-request-id': 'client-trace-7' } });
    expect(echoed.headers.get('x-request-id')).toBe('client-trace-7');
    expect(echoed.body.error.requestId).toBe('client-trace-7');
    expect(log.mock.calls.map((c) => c[0])).toStrictEqual([
      `liverec: internal error ${id} on GET /v1/model`,
      'liverec: internal error client-trace-7 on GET /v1/model',
    ]);
  });
});

describe('structured logs', () => {
  it('are off by default', async () => {
    const { out, err } = captureOutput();
    const { call } = setup();
    await call('GET', '/v1/model');
    await call('GET', '/v1/popular?n=0');
    vi.restoreAllMocks();
    expect(out).toStrictEqual([]);
    expect(err).toStrictEqual([]);
  });

  it('write one JSON line per request to stdout, with exactly the documented fields', async () => {
    const { out } = captureOutput();
    const { call } = setup({ log: true, apiKey: KEY });
    const ok = await call('GET', '/v1/popular?n=3', { headers: { 'x-request-id': 'trace-1' } });
    const denied = await call('POST', '/v1/model/train', { key: 'wrong-key' });
    const trained = await call('POST', '/v1/model/train', { key: KEY });
    vi.restoreAllMocks();

    expect(out).toHaveLength(3);
    for (const line of out) expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    const entries = out.map((line) => JSON.parse(line));
    for (const entry of entries) {
      expect(Object.keys(entry)).toStrictEqual(['time', 'level', 'requestId', 'method', 'path', 'status', 'ms']);
      expect(new Date(entry.time).toISOString()).toBe(entry.time);
      expect(entry.ms).toBeGreaterThanOrEqual(0);
    }
    expect(entries.map(({ level, requestId, method, path, status }) => ({ level, requestId, method, path, status }))).toStrictEqual([
      { level: 'info', requestId: 'trace-1', method: 'GET', path: '/v1/popular', status: 200 },
      { level: 'warn', requestId: denied.headers.get('x-request-id'), method: 'POST', path: '/v1/model/train', status: 401 },
      { level: 'info', requestId: trained.headers.get('x-request-id'), method: 'POST', path: '/v1/model/train', status: 202 },
    ]);
    expect(ok.status).toBe(200);
    // Neither the key nor the Authorization header ever reaches the log.
    expect(out.join('')).not.toMatch(/very-secret|wrong-key|authorization|bearer/i);
  });

  it('log a 500 as one JSON line on stderr with the stack, under the same requestId', async () => {
    const { out, err } = captureOutput();
    const consoleError = vi.spyOn(console, 'error');
    const { engine, call } = setup({ log: true, apiKey: KEY });
    const bug = new Error('SQLITE_ERROR: no such table: feedback');
    engine.failNext(bug);
    const res = await call('POST', '/v1/model/train', { key: KEY });
    vi.restoreAllMocks();

    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(res.body.error.requestId).toBe(id);
    expect(consoleError).not.toHaveBeenCalled();
    expect(err).toHaveLength(1);
    const entry = JSON.parse(err[0]);
    expect(entry).toStrictEqual({
      time: expect.any(String),
      level: 'error',
      requestId: id,
      method: 'POST',
      path: '/v1/model/train',
      error: 'Error',
      message: bug.message,
      stack: bug.stack,
    });
    expect(entry.stack).toContain('request-id.test.ts');
    expect(out.map((line) => JSON.parse(line))).toMatchObject([{ level: 'error', requestId: id, status: 500 }]);
    expect(err.join('') + out.join('')).not.toContain(KEY);
  });
});
