import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';

/**
 * Runs a zod schema and turns its first issue into an InvalidInputError whose field is the
 * contract's path notation (`userId`, `[17].type`, `items[3]`, `exclude[0]`) and whose message
 * is "<field> <rule>". Schemas word their own rules as predicates ("must be 1–256 characters");
 * `rule` below words zod's built-in checks the same way, so clients see one style.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, field?: string): z.output<S> {
  const result = check(schema, input, field);
  if (result.ok) return result.data;
  throw new InvalidInputError(result.message, result.field);
}

/**
 * `validate` for a query parameter a request may leave out: absent is undefined without running
 * the schema. A read names few of its options, and a zod run per absent one was a tenth of a
 * cached read's time.
 */
export function validateIfGiven<S extends z.ZodType>(schema: S, input: string | string[] | undefined, field: string): z.output<S> | undefined {
  return input === undefined ? undefined : validate(schema, input, field);
}

/** Rows checked between two turns of the event loop (a few milliseconds' work). */
const ROWS_PER_TURN = 200;

/**
 * `validate` for every row of a batch whose shape `batch` already accepted, a slice of rows per
 * turn of the event loop, so a 10,000-row body never holds the serving thread; the first bad row
 * fails it with its index (`[17].type`), as the whole-array schema would.
 */
export async function validateRows<S extends z.ZodType>(row: S, rows: readonly unknown[]): Promise<Array<z.output<S>>> {
  const out: Array<z.output<S>> = [];
  for (let index = 0; index < rows.length; index++) {
    if (index > 0 && index % ROWS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const result = check(row, rows[index], `[${index}]`);
    if (!result.ok) throw new InvalidInputError(result.message, result.field);
    out.push(result.data);
  }
  return out;
}

export type Checked<T> = { ok: true; data: T } | { ok: false; field: string; message: string };

/** `validate` without the throw, for callers that collect problems (partial imports). */
export function check<S extends z.ZodType>(schema: S, input: unknown, field?: string): Checked<z.output<S>> {
  const result = schema.safeParse(input, { error: rule });
  if (result.success) return { ok: true, data: result.data };
  const issue = result.error.issues[0];
  const name = fieldName(field ?? '', issue.path) || 'body';
  return { ok: false, field: name, message: `${name} ${issue.message}` };
}

function fieldName(prefix: string, path: PropertyKey[]): string {
  let name = prefix;
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else name += name === '' ? String(key) : `.${String(key)}`;
  }
  return name;
}

const EXPECTED: Record<string, string> = {
  object: 'a JSON object',
  record: 'a JSON object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

function rule(issue: z.core.$ZodRawIssue): string | undefined {
  // Missing fields fail as invalid_type or, for enums, invalid_value; both mean the same to a client.
  if (issue.input === undefined) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${unit(issue.origin)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${unit(issue.origin)}`;
    default:
      return undefined; // zod's own wording
  }
}

function unit(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array') return ' entries';
  return '';
}
