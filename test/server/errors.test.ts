import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, ModelStateError, UnknownIdError } from '../../src/errors.ts';
import { NotFoundError, StoreUnavailableError } from '../../src/store/errors.ts';
import { invalid, setup } from './helpers.ts';

const MiB = 1024 * 1024;
const TOO_LARGE = { error: { code: 'payload_too_large', message: 'request body must be at most 4194304 bytes', field: null } };

/** A body stream of `chunks` × `size` bytes that records how far it was read. */
function chunkedBody(chunks: number, size: number) {
  const state = { pulled: 0, done: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) {
        state.done = true;
        controller.close();
        return;
      }
      state.pulled += 1;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
  return { stream, state };
}

describe('body limits', () => {
  it('answers 413 to an 8 MiB body and never calls the engine', async () => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/items', { body: `[${' '.repeat(8 * MiB)}]` });
    expect(res.status).toBe(413);
    expect(res.body).toStrictEqual(TOO_LARGE);
    expect(engine.calls).toStrictEqual([]);
  });

  it('counts bytes of a chunked body and drains it before answering', async () => {
    const { engine, app } = setup();
    const { stream, state } = chunkedBody(128, 64 * 1024); // 8 MiB in 64 KiB chunks, no Content-Length
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit;
    const res = await app.request('/v1/feedback', init);
    expect(res.status).toBe(413);
    expect(await res.json()).toStrictEqual(TOO_LARGE);
    expect(state).toStrictEqual({ pulled: 128, done: true });
    expect(engine.calls).toStrictEqual([]);
  });

  it('trusts a Content-Length over the limit', async () => {
    const { engine, app } = setup();
    const res = await app.request('/v1/items', { method: 'POST', headers: { 'content-length': String(8 * MiB) }, body: '[]' });
    expect(res.status).toBe(413);
    expect(engine.calls).toStrictEqual([]);
  });

  it('honours maxBodyBytes exactly', async () => {
    const { engine, call } = setup({ maxBodyBytes: 20 });
    const fits = JSON.stringify({ items: [] }).padEnd(20, ' '); // 20 bytes
    expect((await call('POST', '/v1/session/recommend', { body: fits })).status).toBe(200);
    const res = await call('POST', '/v1/session/recommend', { body: `${fits} ` });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toBe('request body must be at most 20 bytes');
    expect(engine.calls).toHaveLength(1);
  });
});

describe('malformed bodies', () => {
  it.each([
    ['{"userId": ', 'body must be valid UTF-8 JSON'],
    ['', 'body is required: send a JSON document'],
  ])('answers 400 field body to %j', async (body, message) => {
    const { engine, call } = setup();
    const res = await call('POST', '/v1/feedback', { body });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(invalid('body', message));
    expect(engine.calls).toStrictEqual([]);
  });

  it('answers 400 to invalid UTF-8', async () => {
    const { call } = setup();
    const res = await call('POST', '/v1/items', { body: new Uint8Array([0x5b, 0xff, 0x5d]) });
    expect(res.body).toStrictEqual(invalid('body', 'body must be valid UTF-8 JSON'));
  });
});

describe('engine errors', () => {
  afterEach(() => vi.restoreAllMocks());

  it('maps StoreUnavailableError to 503 with its message', async () => {
    const { engine, call } = setup();
    engine.failNext(new StoreUnavailableError('busy', 'storage is busy; retry later'));
    const res = await call('GET', '/v1/popular');
    expect(res.status).toBe(503);
    expect(res.body).toStrictEqual({ error: { code: 'unavailable', message: 'storage is busy; retry later', field: null } });
  });

  it('maps InvalidInputError, NotFoundError and UnknownIdError', async () => {
    const { engine, call } = setup();
    engine.failNext(new InvalidInputError('categories must name known categories', 'category'));
    expect(await call('GET', '/v1/popular')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_input', message: 'categories must name known categories', field: 'category' } },
    });
    engine.failNext(new InvalidInputError('no field here'));
    expect((await call('GET', '/v1/popular')).body.error.field).toBeNull();
    engine.failNext(new NotFoundError('itemId', 'i9'));
    expect((await call('POST', '/v1/feedback', { json: { userId: 'u', itemId: 'i9', type: 'view' } })).body).toStrictEqual({
      error: { code: 'not_found', message: "itemId 'i9' does not exist", field: 'itemId' },
    });
    engine.failNext(new UnknownIdError('user', 'u7'));
    const res = await call('GET', '/v1/users/u7/recommendations');
    expect(res.status).toBe(404);
    expect(res.body.error.field).toBe('userId');
  });

  it('hides unexpected errors behind 500 + requestId and logs the stack with it', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { engine, call } = setup({ apiKey: 'secret-key' });
    const bug = new Error('SQLITE_ERROR: no such table: feedback (SELECT * FROM feedback)');
    engine.failNext(bug);
    const res = await call('POST', '/v1/model/train', { key: 'secret-key' });
    expect(res.status).toBe(500);
    const { requestId } = res.body.error;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.body).toStrictEqual({
      error: {
        code: 'internal',
        message: `internal server error; quote requestId ${requestId} when reporting it`,
        field: null,
        requestId,
      },
    });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]).toStrictEqual([`liverec: internal error ${requestId} on POST /v1/model/train`, bug]);
    expect(JSON.stringify(log.mock.calls)).not.toContain('secret-key');
  });

  it('treats ModelStateError as internal', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { engine, call } = setup();
    engine.failNext(new ModelStateError('model produced NaN'));
    const res = await call('GET', '/v1/model');
    expect(res.status).toBe(500);
    expect(res.body.error.message).not.toContain('NaN');
  });
});
