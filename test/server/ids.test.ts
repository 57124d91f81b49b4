import { describe, expect, it } from 'vitest';
import { ID_257, invalid, setup } from './helpers.ts';

const CHARSET = 'must contain only printable characters: no control characters, line separators or unpaired surrogates';
const event = { userId: 'u1', itemId: 'i1', type: 'view' };

const BAD_IDS: Array<[string, string]> = [
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['tab', '\tab'],
  ['DEL', 'ab\u007f'],
  ['C1 control', 'a\u0085b'],
  ['line separator', 'a\u2028b'],
  ['paragraph separator', 'a\u2029b'],
  ['lone high surrogate', 'a\ud800'],
  ['lone low surrogate', '\udc00b'],
];

const GOOD_IDS = ['sku-123', 'user@example.com', 'Größe M', '商品 42', '🙂👍🏽', 'a b', "o'brien", '1', '🙂'.repeat(128)];

describe('ids the API stores', () => {
  it.each(BAD_IDS)('rejects a %s in a feedback userId or itemId', async (_, bad) => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/feedback', { json: { ...event, userId: bad } })).body).toStrictEqual(invalid('userId', `userId ${CHARSET}`));
    expect((await call('POST', '/v1/feedback', { json: { ...event, itemId: bad } })).body).toStrictEqual(invalid('itemId', `itemId ${CHARSET}`));
    expect((await call('POST', '/v1/feedback', { json: [event, { ...event, itemId: bad }] })).body).toStrictEqual(
      invalid('[1].itemId', `[1].itemId ${CHARSET}`),
    );
    expect(engine.calls).toStrictEqual([]);
  });

  it.each(BAD_IDS)('rejects a %s in an item id, in the body or the PUT path', async (_, bad) => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/items', { json: [{ itemId: 'ok' }, { itemId: bad }] })).body).toStrictEqual(
      invalid('[1].itemId', `[1].itemId ${CHARSET}`),
    );
    const encoded = encodeURIComponent(bad.replace(/[\ud800-\udfff]/g, '\u0000'));
    expect((await call('PUT', `/v1/items/${encoded}`, { json: {} })).body).toStrictEqual(invalid('itemId', `itemId ${CHARSET}`));
    expect(engine.calls).toStrictEqual([]);
  });

  it.each(GOOD_IDS)('accepts %j', async (good) => {
    const { engine, call } = setup();
    expect((await call('POST', '/v1/feedback', { json: { ...event, userId: good, itemId: good } })).status).toBe(200);
    expect((await call('POST', '/v1/items', { json: [{ itemId: good }] })).status).toBe(200);
    expect((await call('PUT', `/v1/items/${encodeURIComponent(good)}`, { json: {} })).status).toBe(200);
    expect(engine.calls.map((c) => c.method)).toStrictEqual(['addFeedback', 'upsertItems', 'upsertItems', 'getItem']);
  });

  it('keeps the length rule and its message first', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/feedback', { json: { ...event, userId: '' } })).body).toStrictEqual(
      invalid('userId', 'userId must be 1–256 characters'),
    );
    expect((await call('POST', '/v1/feedback', { json: { ...event, userId: `${ID_257.slice(1)}\u0000` } })).body).toStrictEqual(
      invalid('userId', 'userId must be 1–256 characters'),
    );
  });
});

describe('ids the API only looks up', () => {
  it('stay reachable and erasable even when stored before the charset rule', async () => {
    const { engine, call } = setup();
    engine.users.add('legacy\u0001user');
    const erased = await call('DELETE', `/v1/users/${encodeURIComponent('legacy\u0001user')}`);
    expect(erased.status).toBe(200);
    expect(engine.calls).toStrictEqual([{ method: 'deleteUser', args: ['legacy\u0001user'] }]);
    expect((await call('GET', '/v1/items/a%00b')).status).toBe(404);
  });
});

describe('item titles', () => {
  it('may hold any valid text but no unpaired surrogate or U+0000, which a store would mangle or refuse', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/items', { json: [{ itemId: 'a', title: 'Größe 🙂\n\tzwei Zeilen' }] })).status).toBe(200);
    expect((await call('PUT', '/v1/items/a', { json: { title: 'x\ud800' } })).body).toStrictEqual(
      invalid('title', 'title must be valid Unicode text: no unpaired surrogates or U+0000'),
    );
    // PostgreSQL's text cannot hold U+0000: refused on every backend, naming the field.
    expect((await call('PUT', '/v1/items/a', { json: { title: 'a\u0000b' } })).body).toStrictEqual(
      invalid('title', 'title must be valid Unicode text: no unpaired surrogates or U+0000'),
    );
    expect((await call('POST', '/v1/items', { json: [{ itemId: 'b', categories: ['Drama', 'x\u0000'] }] })).body).toStrictEqual(
      invalid('[0].categories[1]', '[0].categories[1] must be valid Unicode text: no unpaired surrogates or U+0000'),
    );
  });
});

describe('item metadata depth', () => {
  const nested = (depth: number): unknown => (depth === 1 ? { leaf: 1 } : { d: nested(depth - 1) });

  it('accepts 32 levels', async () => {
    const { call } = setup();
    expect((await call('POST', '/v1/items', { json: [{ itemId: 'a', metadata: nested(32) }] })).status).toBe(200);
    expect((await call('PUT', '/v1/items/a', { json: { metadata: { list: [[[[1]]]] } } })).status).toBe(200);
  });

  it('rejects 33 levels, and a 100,000-level body without overflowing the stack', async () => {
    const { engine, call } = setup();
    const rule = 'must be nested at most 32 levels deep';
    expect((await call('POST', '/v1/items', { json: [{ itemId: 'a', metadata: nested(33) }] })).body).toStrictEqual(
      invalid('[0].metadata', `[0].metadata ${rule}`),
    );
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await call('PUT', '/v1/items/a', { body: `{"metadata":{"d":${deep}}}` });
    expect(res.body).toStrictEqual(invalid('metadata', `metadata ${rule}`));
    expect(engine.calls).toStrictEqual([]);
  });
});
