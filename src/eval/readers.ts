/**
 * Interaction file readers. Three formats are detected from the first non-blank line:
 *   MovieLens CSV  header `userId,movieId,rating,timestamp`, timestamps in epoch seconds
 *   generic CSV    header naming `user`, `item` and optionally `value`, `timestamp` (any order)
 *   ml-100k u.data tab-separated `user item rating timestamp-seconds`, no header
 * Lines are split with indexOf rather than a regex or a CSV library because this runs over
 * millions of rows; the price is that quoted CSV fields are not supported (and are rejected).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface RatingRow {
  user: string;
  item: string;
  value: number;
  /** Epoch milliseconds; 0 when the source has no timestamps. */
  timestamp: number;
}

export class DataFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    what: string,
  ) {
    super(line === undefined ? `${source}: ${what}` : `${source} line ${line}: ${what}`);
    this.name = 'DataFormatError';
  }
}

const ACCEPTED =
  'accepted: "userId,movieId,rating,timestamp" (MovieLens), ' +
  '"user,item[,value][,timestamp]" (any column order), ' +
  'or tab-separated "user<TAB>item<TAB>rating<TAB>timestamp" without a header (ml-100k u.data)';

interface Format {
  sep: string;
  width: number;
  user: number;
  item: number;
  value: number; // -1: absent, every row weighs 1
  timestamp: number; // -1: absent, every row gets 0
  valueName: string;
  // MovieLens and ml-100k document seconds; generic files may use seconds, ms or ISO-8601.
  secondsOnly: boolean;
}

/**
 * Milliseconds for a generic timestamp. A number is taken as ms when |n| > 1e11 (1973 in ms,
 * year 5138 in seconds, so real dates are never ambiguous), else as seconds.
 */
function genericTimestamp(field: string): number {
  const n = field.length === 0 ? NaN : Number(field);
  if (!Number.isNaN(n)) return Math.abs(n) > 1e11 ? n : n * 1000;
  if (field.length < 10 || field.charCodeAt(4) !== 45 || field.charCodeAt(7) !== 45) return NaN;
  // A date-time without a zone would be read in the machine's local zone, making results
  // depend on where they run; read it as UTC instead. Past the date part, a zone can only
  // show up as a trailing Z or as a +/- offset.
  const last = field.charCodeAt(field.length - 1);
  const zoned =
    field.length === 10 || last === 90 || last === 122 || field.indexOf('+', 10) !== -1 || field.indexOf('-', 10) !== -1;
  return Date.parse(zoned ? field : field + 'Z');
}

class InteractionParser {
  readonly rows: RatingRow[] = [];
  private format: Format | undefined;
  private lineNo = 0;
  private readonly fields: string[] = [];

  constructor(private readonly source: string) {}

  private fail(what: string): never {
    throw new DataFormatError(this.source, this.lineNo, what);
  }

  /** Splits into the reused `fields` array; returns the field count. */
  private split(line: string, sep: string): number {
    let count = 0;
    let start = 0;
    for (let at = line.indexOf(sep); at !== -1; at = line.indexOf(sep, start)) {
      this.fields[count++] = line.slice(start, at);
      start = at + 1;
    }
    this.fields[count++] = line.slice(start);
    return count;
  }

  private detect(line: string): Format {
    if (line.includes('\t') && !line.includes(',')) {
      // u.data has no header, so its first line must already be a numeric row.
      const cells = line.split('\t');
      if (cells.length !== 4 || !Number.isFinite(Number(cells[2])) || !Number.isFinite(Number(cells[3]))) {
        this.fail(`unknown header "${line}"; ${ACCEPTED}`);
      }
      return { sep: '\t', width: 4, user: 0, item: 1, value: 2, timestamp: 3, valueName: 'rating', secondsOnly: true };
    }
    const names = line.split(',').map((name) => name.trim());
    if (names.join(',') === 'userId,movieId,rating,timestamp') {
      return { sep: ',', width: 4, user: 0, item: 1, value: 2, timestamp: 3, valueName: 'rating', secondsOnly: true };
    }
    const known = ['user', 'item', 'value', 'timestamp'];
    const unique = new Set(names).size === names.length;
    if (!unique || !names.includes('user') || !names.includes('item') || names.some((n) => !known.includes(n))) {
      this.fail(`unknown header "${line}"; ${ACCEPTED}`);
    }
    const [user, item, value, timestamp] = known.map((name) => names.indexOf(name));
    return { sep: ',', width: names.length, user, item, value, timestamp, valueName: 'value', secondsOnly: false };
  }

  line(text: string): void {
    this.lineNo++;
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1); // CRLF files
    if (text.length === 0) return;
    if (this.format === undefined) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark from spreadsheet exports
      this.format = this.detect(text);
      if (this.format.sep === ',') return; // CSV formats start with a header; u.data starts with data
    }
    const f = this.format;
    if (text.includes('"')) this.fail('quoted fields are not supported');
    const count = this.split(text, f.sep);
    if (count !== f.width) {
      this.fail(`expected ${f.width} ${f.sep === ',' ? 'comma' : 'tab'}-separated fields, found ${count}`);
    }
    const fields = this.fields;
    const user = fields[f.user];
    const item = fields[f.item];
    if (user.length === 0) this.fail('user id is empty');
    if (item.length === 0) this.fail('item id is empty');
    let value = 1;
    if (f.value >= 0) {
      const field = fields[f.value];
      value = field.length === 0 ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        this.fail(`${f.valueName} "${field}" is not ${Number.isNaN(value) ? 'a number' : 'finite'}`);
      }
    }
    let timestamp = 0;
    if (f.timestamp >= 0) {
      const field = fields[f.timestamp];
      timestamp = f.secondsOnly ? (field.length === 0 ? NaN : Number(field) * 1000) : genericTimestamp(field);
      if (!Number.isFinite(timestamp)) {
        const expected = f.secondsOnly ? 'epoch seconds' : 'epoch seconds, epoch milliseconds or an ISO-8601 date';
        this.fail(`timestamp "${field}" is not ${expected}`);
      }
    }
    this.rows.push({ user, item, value, timestamp });
  }

  finish(): RatingRow[] {
    if (this.format === undefined) throw new DataFormatError(this.source, undefined, `no header or data lines; ${ACCEPTED}`);
    return this.rows;
  }
}

/** Parses interactions held in memory; `source` names them in error messages. */
export function parseInteractions(text: string, source = '<input>'): RatingRow[] {
  const parser = new InteractionParser(source);
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    parser.line(text.slice(start, end));
    start = end + 1;
  }
  parser.line(text.slice(start));
  return parser.finish();
}

/**
 * Reads an interaction file in fixed-size chunks, so the file may exceed V8's maximum string
 * length (~512 MB; the 25M-row MovieLens ratings.csv is ~650 MB).
 */
export function readInteractions(path: string): RatingRow[] {
  const parser = new InteractionParser(path);
  const decoder = new StringDecoder('utf8'); // keeps multi-byte characters split across chunks intact
  const buffer = Buffer.allocUnsafe(1 << 24);
  const fd = openSync(path, 'r');
  try {
    let carry = '';
    for (let bytes = readSync(fd, buffer); bytes > 0; bytes = readSync(fd, buffer)) {
      const text = carry + decoder.write(buffer.subarray(0, bytes));
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        parser.line(text.slice(start, end));
        start = end + 1;
      }
      carry = text.slice(start);
    }
    parser.line(carry + decoder.end());
  } finally {
    closeSync(fd);
  }
  return parser.finish();
}
