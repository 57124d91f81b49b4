/**
 * The files `liverec import` reads, each turned into validated store inputs one row at a time.
 * Rows are checked with the HTTP API's schemas, so a row the CLI accepts is exactly a row the
 * server would accept (feedback first through the schema's hand-written common case, which
 * leaves every row it is unsure of to the schema). A bad row becomes a rejection with its line
 * number, never an abort.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DataFormatError } from '../eval/readers.ts';
import { plainFeedback } from '../server/feedback-check.ts';
import { feedbackEvent, itemBatch } from '../server/schemas.ts';
import { validate } from '../server/validate.ts';
import type { FeedbackInput, ItemInput } from '../store/types.ts';
import { readCsv, readLines } from './lines.ts';

export type Parsed<T> = { line: number; value: T } | { line: number; reason: string };
type OnBytes = (read: number, total: number) => void;

const itemSchema = itemBatch.element;
const NO_GENRES = '(no genres listed)';

/** MovieLens ratings.csv: `userId,movieId,rating,timestamp`, timestamps in epoch seconds. */
export function movieLensRatings(path: string, now: number, onBytes?: OnBytes): Generator<Parsed<FeedbackInput>> {
  const schema = feedbackEvent(now);
  return mapRows(csvRows(path, ['userId', 'movieId', 'rating', 'timestamp'], onBytes), ([userId, itemId, rating, seconds]) => {
    if (!/^\d+$/.test(seconds)) throw new Error(`timestamp "${seconds}" must be whole epoch seconds`);
    const row = { userId, itemId, type: 'rating', value: numberOrRaw(rating), timestamp: Number(seconds) * 1000 };
    return plainFeedback(row, now) ?? validate(schema, row);
  });
}

/** MovieLens movies.csv: `movieId,title,genres`, genres separated by `|`. */
export function movieLensMovies(path: string, onBytes?: OnBytes): Generator<Parsed<ItemInput>> {
  return mapRows(csvRows(path, ['movieId', 'title', 'genres'], onBytes), ([itemId, title, genres]) => {
    const categories = genres === NO_GENRES || genres === '' ? [] : genres.split('|');
    return validate(itemSchema, { itemId, title, categories }) as ItemInput;
  });
}

/** Generic feedback: CSV with a `userId,itemId,type[,value][,timestamp]` header, or JSON lines. */
export function* feedbackFile(path: string, now: number, onBytes?: OnBytes): Generator<Parsed<FeedbackInput>> {
  const schema = feedbackEvent(now);
  const feedbackRow = (row: unknown) => (typeof row === 'object' && row !== null && plainFeedback(row, now)) || validate(schema, row);
  if (isJsonLines(path)) {
    for (const { line, text } of readLines(path, onBytes)) {
      if (text.trim() !== '') yield check(line, () => feedbackRow(JSON.parse(text)));
    }
    return;
  }
  const known = ['userId', 'itemId', 'type', 'value', 'timestamp'];
  let columns: string[] | null = null;
  for (const { line, fields } of readCsv(path, onBytes)) {
    if (!columns) {
      columns = fields.map((f) => f.trim());
      const valid = ['userId', 'itemId', 'type'].every((c) => columns!.includes(c)) && columns.every((c) => known.includes(c));
      if (!valid || new Set(columns).size !== columns.length) {
        throw new DataFormatError(path, line, `unknown header "${fields.join(',')}"; expected userId,itemId,type[,value][,timestamp] or JSON lines`);
      }
      continue;
    }
    const cols = columns;
    yield check(line, () => {
      if (fields.length !== cols.length) throw new Error(`expected ${cols.length} comma-separated fields, found ${fields.length}`);
      const row: Record<string, unknown> = {};
      cols.forEach((name, c) => {
        const field = fields[c];
        // Empty optional fields mean "not given" (value null, timestamp now), as in JSON.
        if (field === '' && (name === 'value' || name === 'timestamp')) return;
        row[name] = name === 'value' || name === 'timestamp' ? numberOrRaw(field) : field;
      });
      return feedbackRow(row);
    });
  }
}

/** Generic items: JSON lines of `{itemId, title?, categories?, metadata?, available?}`. */
export function* itemsFile(path: string, onBytes?: OnBytes): Generator<Parsed<ItemInput>> {
  for (const { line, text } of readLines(path, onBytes)) {
    if (text.trim() !== '') yield check(line, () => validate(itemSchema, JSON.parse(text)) as ItemInput);
  }
}

/** Data records of a CSV file whose header must be exactly `header`. */
function* csvRows(path: string, header: string[], onBytes?: OnBytes): Generator<Parsed<string[]>> {
  let first = true;
  for (const { line, fields } of readCsv(path, onBytes)) {
    if (first) {
      first = false;
      if (fields.map((f) => f.trim()).join(',') !== header.join(',')) {
        throw new DataFormatError(path, line, `expected the header "${header.join(',')}", found "${fields.join(',')}"`);
      }
    } else if (fields.length !== header.length) {
      yield { line, reason: `expected ${header.length} comma-separated fields, found ${fields.length}` };
    } else {
      yield { line, value: fields };
    }
  }
}

function* mapRows<T>(rows: Generator<Parsed<string[]>>, parse: (fields: string[]) => T): Generator<Parsed<T>> {
  for (const row of rows) yield 'reason' in row ? row : check(row.line, () => parse(row.value));
}

function check<T>(line: number, parse: () => T): Parsed<T> {
  try {
    return { line, value: parse() };
  } catch (err) {
    const reason = err instanceof SyntaxError ? `not valid JSON: ${err.message}` : (err as Error).message;
    return { line, reason };
  }
}

/** A number when the field is one, else the raw text so the schema rejects it with its own rule. */
function numberOrRaw(field: string): number | string {
  const n = Number(field);
  return field.trim() !== '' && Number.isFinite(n) ? n : field;
}

/** JSON lines when the first non-blank character is `{`. */
function isJsonLines(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8').replace(/^\uFEFF/, '');
    return text.trimStart().startsWith('{');
  } finally {
    closeSync(fd);
  }
}
