import fc from 'fast-check';
import { FEEDBACK_TYPES } from '../../src/store/types.ts';

/**
 * Generators for fuzz.test.ts: hostile values, near-valid request bodies (so that the 2xx paths,
 * where data is stored, are reached often) and hostile transport (headers, paths, queries).
 */

export const KEY = 'fuzz-secret-key';

/** Ids the seeded shop knows (see test/fixtures/shop.ts), so lookups sometimes hit. */
export const KNOWN_ITEMS = [...Array.from({ length: 10 }, (_, i) => `h${i}`), ...Array.from({ length: 10 }, (_, i) => `a${i}`)];
export const KNOWN_USERS = [...Array.from({ length: 12 }, (_, i) => `hu${i}`), ...Array.from({ length: 12 }, (_, i) => `au${i}`)];

const DAY = 86_400_000;

// ---- hostile scalars ----

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const control = fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f).map((c) => String.fromCharCode(c));

/** Strings a careless parser trips on: number look-alikes, unicode edge cases, injections, lengths at the limits. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), loneSurrogate, control) }),
  fc.constantFrom(
    '', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x1F', '1_000', ' 5', '5 ', '5.0', '+5', 'null', 'true',
    'undefined', '__proto__', 'constructor', 'prototype', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'a\udc00b',
    '\u202e', '\u2028', '\ufeff', '\u200d', '🙂', 'a\r\nb', '%00', '%ZZ', '../..', "' OR 1=1 --", '<script>',
    'x'.repeat(256), 'x'.repeat(257), 'ü'.repeat(256), '🙂'.repeat(128), '🙂'.repeat(129),
    '2024-06-14T10:30:00Z', '2024-06-14T10:30:00', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2024-02-30T00:00:00Z',
  ),
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(), // NaN and ±Infinity serialise as null
  fc.constantFrom(0, -0, 0.5, 5, 5.000001, 0.4999, -1, 1e21, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 31, 101, 100),
);

/** Any JSON value, small enough to keep runs fast. */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: anyJson },
  nastyString,
  nastyNumber,
  fc.constantFrom(null, true, false, [], {}),
);

/** `good` most of the time, else something of a wrong type or shape. */
function mostly<T>(good: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<unknown> {
  return fc.oneof({ weight, arbitrary: good }, { weight: 1, arbitrary: anyValue });
}

// ---- ids ----

const freshId = fc.integer({ min: 0, max: 50 }).map((n) => `f${n}`);
export const anyId: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN_ITEMS, ...KNOWN_USERS) },
  { weight: 2, arbitrary: freshId },
  { weight: 2, arbitrary: nastyString },
);

// ---- bodies ----

/** Adds own properties like `__proto__` that a JSON.parse would create; an object literal cannot. */
const pollutionKeys = fc.subarray(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']);
function withPollution(value: unknown): fc.Arbitrary<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fc.constant(value);
  return fc.tuple(pollutionKeys, fc.constantFrom<unknown>({ polluted: true }, 'polluted', [1], null)).map(([keys, payload]) => {
    const copy = { ...(value as Record<string, unknown>) };
    for (const key of keys) Object.defineProperty(copy, key, { value: payload, enumerable: true, configurable: true, writable: true });
    return copy;
  });
}

const timestamp = fc.oneof(
  fc.integer({ min: 0, max: Date.now() }),
  fc.integer({ min: 0, max: Date.now() }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom(Date.now() + 2 * DAY, Date.now() + DAY - 60_000, -1, 1.5),
);

/** An event the API must accept (so batches of them reach the store). */
const validEvent = fc.oneof(
  fc.record(
    {
      userId: fc.oneof(fc.constantFrom(...KNOWN_USERS), freshId),
      itemId: fc.oneof(fc.constantFrom(...KNOWN_ITEMS), freshId),
      type: fc.constantFrom(...FEEDBACK_TYPES.filter((t) => t !== 'rating')),
      value: fc.oneof(fc.constant(null), nastyNumber.filter(Number.isFinite)),
      timestamp: timestamp.filter((t) => typeof t === 'string' || (Number.isSafeInteger(t) && t >= 0 && t <= Date.now())),
    },
    { requiredKeys: ['userId', 'itemId', 'type'] },
  ),
  fc.record({
    userId: fc.constantFrom(...KNOWN_USERS),
    itemId: fc.constantFrom(...KNOWN_ITEMS),
    type: fc.constant('rating'),
    value: fc.double({ min: 0.5, max: 5, noNaN: true }),
  }),
);

const mutatedEvent = fc
  .record(
    {
      userId: mostly(anyId),
      itemId: mostly(anyId),
      type: mostly(fc.constantFrom(...FEEDBACK_TYPES)),
      value: mostly(fc.oneof(fc.constant(null), fc.constantFrom(0.5, 1, 3.5, 5), nastyNumber)),
      timestamp: mostly(timestamp, 2),
      extra: anyValue,
    },
    { requiredKeys: ['userId', 'itemId', 'type'] },
  )
  .chain(withPollution);

const feedbackEvent = fc.oneof({ weight: 3, arbitrary: validEvent }, { weight: 2, arbitrary: mutatedEvent });

const itemFields = {
  title: mostly(fc.oneof(fc.constant(null), nastyString)),
  categories: mostly(fc.array(mostly(fc.oneof(fc.constantFrom('horror', 'animation', 'c1'), nastyString), 6), { maxLength: 4 })),
  metadata: mostly(fc.dictionary(nastyString, anyJson, { maxKeys: 4 }).chain(withPollution)),
  available: mostly(fc.boolean()),
};

const validItem = fc.record(
  {
    itemId: fc.oneof(fc.constantFrom(...KNOWN_ITEMS), freshId),
    title: fc.oneof(fc.constant(null), fc.string()),
    categories: fc.array(fc.constantFrom('horror', 'animation', 'c1'), { maxLength: 3 }),
    metadata: fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }),
    available: fc.boolean(),
  },
  { requiredKeys: ['itemId'] },
);
const item = fc.oneof(
  validItem,
  fc.record({ itemId: mostly(anyId), ...itemFields }, { requiredKeys: ['itemId'] }).chain(withPollution),
);
const itemUpdate = fc.record({ itemId: mostly(anyId, 1), ...itemFields }, { requiredKeys: [] }).chain(withPollution);

/** Nested `depth` deep, as text: JSON.stringify cannot build what it must refuse to serialise. */
const deepText = fc
  .tuple(fc.constantFrom(10, 1_000, 5_000, 100_000), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

export const bodies = {
  items: fc.oneof(
    { weight: 5, arbitrary: fc.array(mostly(item, 8), { maxLength: 8 }).map((v) => JSON.stringify(v)) },
    // Deep metadata passes validation (it is free-form) and reaches the store.
    { weight: 1, arbitrary: deepText.map((deep) => `[{"itemId":"deep","metadata":{"d":${deep}}}]`) },
  ),
  itemUpdate: fc.oneof(
    { weight: 5, arbitrary: mostly(itemUpdate).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: deepText.map((deep) => `{"metadata":{"d":${deep}}}`) },
  ),
  feedback: fc.oneof(
    { weight: 3, arbitrary: mostly(feedbackEvent).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.array(validEvent, { minLength: 1, maxLength: 12 }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: fc.array(mostly(feedbackEvent, 8), { minLength: 0, maxLength: 12 }).map((v) => JSON.stringify(v)) },
  ),
  session: mostly(
    fc.record({ items: mostly(fc.array(mostly(anyId, 8), { maxLength: 12 })), n: mostly(fc.integer({ min: 1, max: 100 })) }, { requiredKeys: [] }).chain(withPollution),
  ).map((v) => JSON.stringify(v)),
};

/** A request body: mostly the route's own near-valid shape, sometimes anything at all. */
export type Body = string | Uint8Array<ArrayBuffer> | undefined;

export function bodyFor(route: fc.Arbitrary<string> | undefined): fc.Arbitrary<Body> {
  const hostile: fc.Arbitrary<Body> = fc.oneof(
    anyJson.map((v) => JSON.stringify(v)),
    deepText,
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => new Uint8Array(bytes)), // mostly invalid UTF-8
    fc.constantFrom(undefined, '', ' ', 'null', '{', '[1,', '1e400', '"\\ud800"', '{"__proto__":{"polluted":1}}', '\ufeff{}'),
  );
  return route ? fc.oneof({ weight: 4, arbitrary: route }, { weight: 1, arbitrary: hostile }) : fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, hostile);
}

// ---- transport ----

/** Header values must be ByteStrings without CR/LF/NUL, or Request itself throws. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 200 });

const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      authorization: fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${KEY}`) },
        fc.constantFrom(`Bearer ${KEY}x`, `bearer   ${KEY}  `, 'Bearer', 'Bearer ', `Basic ${KEY}`, KEY, `Bearer ${KEY} extra`),
        headerText,
      ),
      'content-type': fc.oneof(
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/xml'),
        headerText,
      ),
      'content-length': fc.oneof(fc.nat().map(String), fc.constantFrom('0', '-1', '99999999999', 'abc')),
      'x-request-id': fc.oneof(fc.string({ maxLength: 140 }), headerText),
      origin: fc.oneof(fc.constantFrom('https://shop.example', 'null'), headerText),
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);

/** Mostly what a well-behaved client sends, so requests get past auth and the body limit. */
export const headers: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }) },
  { weight: 1, arbitrary: hostileHeaders },
);

function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?')); // lone surrogates cannot be encoded
  }
}

/** A path segment: known ids, encoded nasty strings, malformed escapes, over-long ids. */
export const pathParam: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN_ITEMS, ...KNOWN_USERS) },
  { weight: 3, arbitrary: nastyString.map(encode) },
  fc.constantFrom('%ZZ', '%', '%0', '%00', '%2F', '%2e%2e', '..', '.', 'a%0Ab', '%ED%A0%80', '%F0%9F', '%C0%AF', '%25', 'x'.repeat(300), encode('ü'.repeat(300))),
);

const queryValue = fc.oneof(fc.integer({ min: 0, max: 120 }).map(String), fc.constantFrom('true', 'false'), nastyString);

/** A query string: the route's own parameters with nasty values, sometimes raw malformed escapes. */
export function queryFor(names: string[]): fc.Arbitrary<string> {
  if (names.length === 0) return fc.constantFrom('', '?x=%ZZ');
  return fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 2, arbitrary: nastyQuery(names) });
}

function nastyQuery(names: string[]): fc.Arbitrary<string> {
  const entries = fc.array(fc.tuple(fc.constantFrom(...names), queryValue), { maxLength: 4 });
  return fc.tuple(entries, fc.constantFrom('', '&n=%ZZ', '&n', '&category=%00', '&&=')).map(([list, raw]) => {
    const search = new URLSearchParams();
    for (const [name, value] of list) search.append(name, value.replace(/[\ud800-\udfff]/g, '?'));
    const text = `${search}${raw}`;
    return text === '' ? '' : `?${text}`;
  });
}
