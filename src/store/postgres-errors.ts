import { StoreUnavailableError, type UnavailableReason } from './errors.ts';

// Our own wording per failure class: the server's messages can carry SQL text and values, which
// must not reach API clients. `lost` covers a commit in flight when the connection broke: it may
// or may not have landed, and a retry is safe (exact duplicate feedback is recognised).
const UNREACHABLE = 'storage is unreachable: the connection to the database failed or was lost; the operation may not have completed and can be retried';
const SHUTDOWN = 'storage is unavailable: the database server is shutting down, restarting or not yet accepting connections; retry later';
const OVERLOADED = 'storage is overloaded: the database ran out of connections, memory or another resource; retry later';
const CONFLICT = 'storage is busy: the transaction conflicted with another or waited too long for a lock and was rolled back; retry later';
const CANCELLED = 'storage is busy: the statement ran past its time limit and was cancelled; nothing was written';

/** SQLSTATE (exact code, or class prefix of two characters) → reason and message. */
const BY_SQLSTATE: ReadonlyArray<[string, UnavailableReason, string]> = [
  ['53100', 'full', 'storage is full: the write was rolled back; free disk space and retry'],
  ['53', 'busy', OVERLOADED],
  ['08', 'io', UNREACHABLE],
  ['57P01', 'io', SHUTDOWN],
  ['57P02', 'io', SHUTDOWN],
  ['57P03', 'io', SHUTDOWN],
  ['57014', 'busy', CANCELLED],
  ['40001', 'busy', CONFLICT],
  ['40P01', 'busy', CONFLICT],
  ['55P03', 'busy', CONFLICT],
  ['25006', 'readonly', 'storage is read-only: the database refused the write (read-only transaction or standby); the write did not happen'],
  ['58', 'io', 'storage I/O failed: the database reported a system error and the operation did not complete'],
  ['3D000', 'io', 'storage cannot be opened: the database named in the URL does not exist'],
  ['28', 'io', 'storage cannot be opened: the database refused the credentials in the URL'],
];

/** Socket-level failures (Node) and the driver's own connection errors. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN', 'ENOENT',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
]);

/**
 * Maps transient PostgreSQL and connection failures to StoreUnavailableError (→ 503); anything
 * else (constraint violations, programming errors, our own NotFoundError…) is returned unchanged.
 */
export function translatePostgresError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || !(err instanceof Error)) return err;
  const code = codeOf(err);
  if (code === undefined) return err;
  if (CONNECTION_CODES.has(code)) return new StoreUnavailableError('io', UNREACHABLE, { cause: err });
  // Only the server's errors carry a SQLSTATE: five characters, digits and capitals.
  if (/^[0-9A-Z]{5}$/.test(code)) {
    for (const [prefix, reason, message] of BY_SQLSTATE) {
      if (code.startsWith(prefix)) return new StoreUnavailableError(reason, message, { cause: err });
    }
  }
  return err;
}

/** `code` of the error, or of the first inner error (Node reports a failed multi-address connect as an AggregateError). */
function codeOf(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const innerCode = (inner as { code?: unknown }).code;
      if (typeof innerCode === 'string') return innerCode;
    }
  }
  return undefined;
}
