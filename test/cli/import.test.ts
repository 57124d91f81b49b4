import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvLine } from '../../src/cli/lines.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { cli, tempDir, type Result } from './helpers.ts';

const MOVIES = `movieId,title,genres
1,Toy Story (1995),Adventure|Animation
11,"American President, The (1995)",Comedy|Drama|Romance
12,"Quote ""Test"" Movie",(no genres listed)
13,Missing Genres
14,"Two
Lines",Drama
`;

const RATINGS = `userId,movieId,rating,timestamp
1,1,4.0,964982703
1,11,7,964982703
2,11,3.5,964982224
2,99,5.0,964982931

1,1,4.0,964982703
x
2,12,abc,964982931
`;

const tmp = tempDir();

describe('import of MovieLens movies.csv and ratings.csv', () => {
  const db = tmp.path('ml.db');
  let result: Result;
  let store: SqliteStore;
  beforeAll(async () => {
    result = await cli('import', '--db', db, '--movies', tmp.write('movies.csv', MOVIES), '--ratings', tmp.write('ratings.csv', RATINGS));
    store = SqliteStore.open(db);
  });
  afterAll(() => store.close());

  it('succeeds and prints a summary per file', () => {
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'movies.csv: 4 items accepted, 1 rejected\n' + 'ratings.csv: 3 events accepted, 1 duplicates, 3 rejected\n',
    );
  });

  it('reports each rejected row with its line number and reason', () => {
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/movies\.csv line 5: expected 3 comma-separated fields, found 2$/),
      expect.stringMatching(/ratings\.csv line 3: value must be a number from 0\.5 to 5 when type is rating$/),
      expect.stringMatching(/ratings\.csv line 8: expected 4 comma-separated fields, found 1$/),
      expect.stringMatching(/ratings\.csv line 9: value must be a number/),
    ]);
  });

  it('stores items with titles parsed by CSV quoting rules and genres as categories', async () => {
    expect(await store.getItem('11')).toMatchObject({ title: 'American President, The (1995)', categories: ['Comedy', 'Drama', 'Romance'] });
    expect((await store.getItem('1'))?.categories).toEqual(['Adventure', 'Animation']);
    expect(await store.getItem('12')).toMatchObject({ title: 'Quote "Test" Movie', categories: [] });
    expect((await store.getItem('14'))?.title).toBe('Two\nLines');
    expect(await store.getItem('13')).toBeNull();
  });

  it('stores ratings as rating events with millisecond timestamps, creating unknown items', async () => {
    expect(await store.countFeedback()).toBe(3);
    expect((await store.userFeedback('2')).map(({ itemId, type, value, timestamp }) => ({ itemId, type, value, timestamp }))).toEqual([
      { itemId: '11', type: 'rating', value: 3.5, timestamp: 964982224_000 },
      { itemId: '99', type: 'rating', value: 5, timestamp: 964982931_000 },
    ]);
    expect(await store.getItem('99')).toMatchObject({ title: null, categories: [] });
  });
});

describe('import of generic feedback and items', () => {
  it('reads a feedback CSV in any column order and JSON-lines items', async () => {
    const db = tmp.path('generic.db');
    const items = tmp.write(
      'items.jsonl',
      '{"itemId":"a","title":"A","categories":["x"],"metadata":{"k":1}}\n{"title":"no id"}\nnot json\n\n{"itemId":"b","available":false}\n',
    );
    const feedback = tmp.write(
      'feedback.csv',
      'type,userId,itemId,value,timestamp\nclick,u1,a,,1700000000000\nrating,u1,b,4,2024-01-01T00:00:00Z\nteleport,u2,b,,\nview,u2,a,,\n',
    );
    const before = Date.now();
    const { code, stdout, stderr } = await cli('import', '--db', db, '--items', items, '--feedback', feedback);
    expect(code).toBe(0);
    expect(stdout).toBe('items.jsonl: 2 items accepted, 2 rejected\nfeedback.csv: 3 events accepted, 0 duplicates, 1 rejected\n');
    expect(stderr).toMatch(/items\.jsonl line 2: itemId is required\n/);
    expect(stderr).toMatch(/items\.jsonl line 3: not valid JSON/);
    expect(stderr).toMatch(/feedback\.csv line 4: type must be one of view, click/);

    const store = SqliteStore.open(db);
    expect(await store.getItem('a')).toMatchObject({ title: 'A', categories: ['x'], metadata: { k: 1 }, available: true });
    expect((await store.getItem('b'))?.available).toBe(false);
    const u1 = await store.userFeedback('u1');
    expect(u1.map((e) => [e.type, e.value, e.timestamp])).toEqual([
      ['click', null, 1700000000000],
      ['rating', 4, Date.parse('2024-01-01T00:00:00Z')],
    ]);
    // No timestamp: the event happened at import time.
    expect((await store.userFeedback('u2'))[0].timestamp).toBeGreaterThanOrEqual(before);
    await store.close();
  });

  it('reads feedback as JSON lines', async () => {
    const db = tmp.path('jsonl.db');
    const feedback = tmp.write('feedback.jsonl', '{"userId":"u","itemId":"i","type":"like"}\n{"userId":"u","itemId":"j","type":"rating","value":9}\n');
    const { stdout, stderr } = await cli('import', '--db', db, '--feedback', feedback);
    expect(stdout).toBe('feedback.jsonl: 1 events accepted, 0 duplicates, 1 rejected\n');
    expect(stderr).toMatch(/line 2: value must be a number from 0\.5 to 5/);
  });

  it('fails with one line for a wrong header, a missing file or no input', async () => {
    const wrong = await cli('import', '--db', tmp.path('x.db'), '--ratings', tmp.write('wrong.csv', 'user,item\n1,2\n'));
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringMatching(/^liverec: .*wrong\.csv line 1: expected the header "userId,movieId,rating,timestamp"[^\n]*\n$/) });
    const missing = await cli('import', '--db', tmp.path('y.db'), '--movies', tmp.path('nope.csv'));
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^liverec: cannot read .*nope\.csv: no such file\n$/) });
    const none = await cli('import', '--db', tmp.path('z.db'));
    expect(none).toMatchObject({ code: 1, stderr: 'liverec: import needs at least one of --movies, --ratings, --items, --feedback\n' });
  });
});

describe('row validation with the HTTP rules, and --strict', () => {
  const DAY = 86_400_000;
  const now = Date.now();
  // Line 2 is good; each later line breaks one rule of the HTTP edge.
  const rows = [
    'userId,itemId,type,value,timestamp',
    `u1,a,click,,${now - DAY}`,
    `${'x'.repeat(257)},a,click,,`,
    'u1,"bad\u0001id",click,,',
    'u1,a,teleport,,',
    'u1,b,rating,6,',
    'u1,b,rating,0.4,',
    'u1,c,view,,-1',
    `u1,c,view,,${now + 2 * DAY}`,
    'u1,c,view,,yesterday',
    ',c,view,,',
  ].join('\n');

  it('reports each bad row by line, field and rule, and stores the good ones', async () => {
    const db = tmp.path('rules.db');
    const result = await cli('import', '--db', db, '--feedback', tmp.write('rules.csv', rows + '\n'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('rules.csv: 1 events accepted, 0 duplicates, 9 rejected\n');
    expect(result.stderr.trim().split('\n').map((line) => line.replace(/^.*rules\.csv /, ''))).toEqual([
      'line 3: userId must be 1–256 characters',
      'line 4: itemId must contain only printable characters: no control characters, line separators or unpaired surrogates',
      'line 5: type must be one of view, click, cart, purchase, like, dislike, rating',
      'line 6: value must be a number from 0.5 to 5 when type is rating',
      'line 7: value must be a number from 0.5 to 5 when type is rating',
      'line 8: timestamp must not be before 1970-01-01T00:00:00Z',
      'line 9: timestamp must not be more than 1 day in the future',
      'line 10: timestamp must be integer epoch milliseconds or an ISO-8601 date-time with a timezone',
      'line 11: userId must be 1–256 characters',
    ]);
    const store = SqliteStore.open(db);
    expect(await store.countFeedback()).toBe(1);
    await store.close();
  });

  it('--strict stores nothing, not even the database file, when any row is bad', async () => {
    const db = tmp.path('strict.db');
    const items = tmp.write('strict-items.jsonl', '{"itemId":"a"}\n');
    const result = await cli('import', '--db', db, '--items', items, '--feedback', tmp.write('strict.csv', rows + '\n'), '--strict');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/strict\.csv line 3: userId must be 1–256 characters\n/);
    expect(result.stderr.endsWith('liverec: --strict: 9 rejected rows; nothing was stored\n')).toBe(true);
    expect(existsSync(db)).toBe(false);
  });

  it('--strict imports clean files as usual', async () => {
    const db = tmp.path('strict-ok.db');
    const clean = tmp.write('clean.csv', `userId,itemId,type\nu1,a,click\nu2,b,like\n`);
    const result = await cli('import', '--db', db, '--feedback', clean, '--strict');
    expect(result).toEqual({ code: 0, stdout: 'clean.csv: 2 events accepted, 0 duplicates, 0 rejected\n', stderr: '' });
    const store = SqliteStore.open(db);
    expect(await store.countFeedback()).toBe(2);
    await store.close();
  });

  it('refuses a bad config before importing anything', async () => {
    const db = tmp.path('bad-config.db');
    const config = tmp.write('bad.json', '{"engine":{"pseudonymSalt":"short"}}');
    const clean = tmp.write('clean2.csv', `userId,itemId,type\nu1,a,click\n`);
    const result = await cli('import', '--db', db, '--feedback', clean, '--config', config);
    expect(result).toMatchObject({ code: 1, stderr: `liverec: config ${config}: engine.pseudonymSalt must be a string of at least 16 characters, or null\n` });
    expect(existsSync(db)).toBe(false);
  });
});

describe('parseCsvLine', () => {
  it('follows RFC 4180 quoting', () => {
    expect(parseCsvLine('a,"b,c","d ""e""",')).toEqual(['a', 'b,c', 'd "e"', '']);
    expect(parseCsvLine('"open')).toBeNull();
  });
});
