/**
 * Line and CSV record readers for `liverec import`. Synchronous and chunked (like
 * src/eval/readers.ts) so files larger than V8's maximum string length stream through, and so
 * file errors surface as ordinary exceptions at the call site.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { DataFormatError } from '../eval/readers.ts';

export interface Line {
  /** 1-based physical line number. */
  line: number;
  text: string;
}

/** Every line without its terminator (LF or CRLF) or a leading byte-order mark. */
export function* readLines(path: string, onBytes?: (read: number, total: number) => void): Generator<Line> {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(1 << 20);
    let carry = '';
    let line = 0;
    let read = 0;
    const emit = function* (text: string): Generator<Line> {
      line++;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      yield { line, text };
    };
    for (let bytes = readSync(fd, buffer); bytes > 0; bytes = readSync(fd, buffer)) {
      read += bytes;
      const text = carry + decoder.write(buffer.subarray(0, bytes));
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        yield* emit(text.slice(start, end));
        start = end + 1;
      }
      carry = text.slice(start);
      onBytes?.(read, total);
    }
    yield* emit(carry + decoder.end());
  } finally {
    closeSync(fd);
  }
}

export interface CsvRecord {
  /** Line on which the record starts. */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: fields may be quoted, quoted fields may hold commas, doubled quotes and
 * line breaks (MovieLens titles such as "American President, The (1995)").
 */
export function* readCsv(path: string, onBytes?: (read: number, total: number) => void): Generator<CsvRecord> {
  let pending: Line | null = null;
  for (const current of readLines(path, onBytes)) {
    if (!pending && current.text.trim() === '') continue;
    const record: Line = pending ? { line: pending.line, text: `${pending.text}\n${current.text}` } : current;
    const fields = parseCsvLine(record.text);
    if (fields === null) {
      pending = record; // an open quote: the field continues on the next line
      continue;
    }
    pending = null;
    yield { line: record.line, fields };
  }
  if (pending) throw new DataFormatError(path, pending.line, 'a quoted field is never closed');
}

/** The fields of one record, or null when a quoted field is still open at the end of `text`. */
export function parseCsvLine(text: string): string[] | null {
  // Most records quote nothing: then the fields are exactly the comma-separated pieces.
  if (text.indexOf('"') === -1) return text.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '"' && field === '') {
      quoted = true;
    } else {
      field += c; // a stray quote inside an unquoted field is kept as text, as most readers do
    }
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}
