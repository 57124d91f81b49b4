import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError, parseInteractions, readInteractions } from '../../src/eval/readers.ts';

const ML_SMALL = new URL('../../data/ml-latest-small/ratings.csv', import.meta.url).pathname;

function errorOf(run: () => unknown): DataFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof DataFormatError) return error;
    throw error;
  }
  throw new Error('expected a DataFormatError');
}

describe('parseInteractions formats', () => {
  it('reads MovieLens CSV with second timestamps turned into milliseconds', () => {
    const rows = parseInteractions('userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n7,1029,3.0,1260759179\r\n');
    expect(rows).toEqual([
      { user: '1', item: '31', value: 2.5, timestamp: 1260759144000 },
      { user: '7', item: '1029', value: 3, timestamp: 1260759179000 },
    ]);
  });

  it('reads ml-100k tab-separated u.data without a header', () => {
    const rows = parseInteractions('196\t242\t3\t881250949\n186\t302\t3\t891717742');
    expect(rows).toEqual([
      { user: '196', item: '242', value: 3, timestamp: 881250949000 },
      { user: '186', item: '302', value: 3, timestamp: 891717742000 },
    ]);
  });

  it('reads generic CSV timestamps as seconds, milliseconds or ISO-8601', () => {
    const text = [
      'user,item,value,timestamp',
      'u1,i1,0.5,1600000000', // seconds (≤ 1e11)
      'u1,i2,2,1600000000123', // milliseconds (> 1e11)
      'u2,i1,1,2020-09-13T12:26:40Z',
      'u2,i3,1,2020-09-13T12:26:40', // no zone: read as UTC, not machine-local
      'u3,i3,1,2020-09-13T14:26:40+02:00',
      'u3,i4,1,2020-09-13',
    ].join('\n');
    expect(parseInteractions(text)).toEqual([
      { user: 'u1', item: 'i1', value: 0.5, timestamp: 1600000000000 },
      { user: 'u1', item: 'i2', value: 2, timestamp: 1600000000123 },
      { user: 'u2', item: 'i1', value: 1, timestamp: 1600000000000 },
      { user: 'u2', item: 'i3', value: 1, timestamp: 1600000000000 },
      { user: 'u3', item: 'i3', value: 1, timestamp: 1600000000000 },
      { user: 'u3', item: 'i4', value: 1, timestamp: Date.UTC(2020, 8, 13) },
    ]);
  });

  it('defaults a missing value column to 1 and a missing timestamp column to 0, in any column order', () => {
    expect(parseInteractions('item,user\ni9,u1\n')).toEqual([{ user: 'u1', item: 'i9', value: 1, timestamp: 0 }]);
    expect(parseInteractions('timestamp,item,user\n5,i9,u1\n')).toEqual([
      { user: 'u1', item: 'i9', value: 1, timestamp: 5000 },
    ]);
  });

  it('skips blank lines and a byte-order mark', () => {
    expect(parseInteractions('\uFEFFuser,item,value\n\nu,i,4\n\n')).toEqual([{ user: 'u', item: 'i', value: 4, timestamp: 0 }]);
  });
});

describe('parseInteractions errors', () => {
  it('names the source, the line and the bad field', () => {
    const text = 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,abc,964981247\n';
    const error = errorOf(() => parseInteractions(text, 'ratings.csv'));
    expect(error.message).toBe('ratings.csv line 3: rating "abc" is not a number');
    expect(error.line).toBe(3);
  });

  it('rejects non-finite numbers, bad timestamps, wrong field counts and empty ids', () => {
    const header = 'user,item,value,timestamp\n';
    expect(errorOf(() => parseInteractions(header + 'u,i,Infinity,1')).message).toBe('<input> line 2: value "Infinity" is not finite');
    expect(errorOf(() => parseInteractions(header + 'u,i,1,NaN')).message).toMatch(/line 2: timestamp "NaN" is not/);
    expect(errorOf(() => parseInteractions(header + 'u,i,1,yesterday')).message).toMatch(/line 2: timestamp "yesterday"/);
    expect(errorOf(() => parseInteractions(header + 'u,i,1,1\nu,i,1')).message).toBe(
      '<input> line 3: expected 4 comma-separated fields, found 3',
    );
    expect(errorOf(() => parseInteractions(header + ',i,1,1')).message).toBe('<input> line 2: user id is empty');
    expect(errorOf(() => parseInteractions(header + 'u,i,,1')).message).toBe('<input> line 2: value "" is not a number');
    expect(errorOf(() => parseInteractions('1\t2\t3\t4\n1\t2\t3\tx')).message).toBe(
      '<input> line 2: timestamp "x" is not epoch seconds',
    );
  });

  it('lists the accepted headers when the header is unknown', () => {
    const message = errorOf(() => parseInteractions('uid,iid,score\n1,2,3')).message;
    expect(message).toMatch(/^<input> line 1: unknown header "uid,iid,score"; accepted: /);
    expect(message).toContain('userId,movieId,rating,timestamp');
    expect(message).toContain('user,item[,value][,timestamp]');
    expect(errorOf(() => parseInteractions('user,item,user\n')).message).toMatch(/unknown header/);
    expect(errorOf(() => parseInteractions('user\titem\trating\ttimestamp\n')).message).toMatch(/line 1: unknown header/);
  });

  it('rejects quoted fields instead of keeping the quotes in ids', () => {
    expect(errorOf(() => parseInteractions('user,item\n"u1",i1')).message).toBe('<input> line 2: quoted fields are not supported');
  });

  it('rejects empty input', () => {
    expect(errorOf(() => parseInteractions('\n\n', 'empty.csv')).message).toMatch(/^empty.csv: no header or data lines/);
  });
});

describe('readInteractions', () => {
  it('reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'liverec-readers-'));
    try {
      const path = join(dir, 'bad.csv');
      writeFileSync(path, 'user,item,value\nu,i,1\nu,j,x\n');
      expect(errorOf(() => readInteractions(path)).message).toBe(`${path} line 3: value "x" is not a number`);
      writeFileSync(path, 'user,item,value\nu,i,1\nu,j,2');
      expect(readInteractions(path).map((row) => row.item)).toEqual(['i', 'j']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('joins lines and multi-byte characters split across read chunks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'liverec-readers-'));
    try {
      // Over 16 MiB (one read chunk) of rows whose ids hold two-byte characters; a padding row
      // is lengthened until the chunk boundary falls inside a character, the hard case.
      const body = Array.from({ length: 800_000 }, (_, i) => `üser${i % 977},ïtem${i},${i % 5}`);
      const build = (pad: number) => Buffer.from(['user,item,value', `p${'p'.repeat(pad)},i,1`, ...body].join('\n'));
      const unpadded = build(0);
      let pad = 0; // padding shifts the byte at 2^24 - pad onto the boundary
      while ((unpadded[(1 << 24) - pad] & 0xc0) !== 0x80) pad++;
      const bytes = build(pad);
      expect(bytes[1 << 24] & 0xc0).toBe(0x80); // a UTF-8 continuation byte
      const path = join(dir, 'big.csv');
      writeFileSync(path, bytes);
      const rows = readInteractions(path).slice(1);
      expect(rows.length).toBe(body.length);
      // One string comparison: toEqual over 800k array entries alone takes seconds.
      expect(rows.map((row) => `${row.user},${row.item},${row.value}`).join('\n') === body.join('\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('reads MovieLens ml-latest-small: 100,836 ratings by 610 users', () => {
    const rows = readInteractions(ML_SMALL);
    expect(rows.length).toBe(100_836);
    expect(new Set(rows.map((row) => row.user)).size).toBe(610);
    expect(new Set(rows.map((row) => row.item)).size).toBe(9_724);
    expect(rows[0]).toEqual({ user: '1', item: '1', value: 4, timestamp: 964982703000 });
  });
});
