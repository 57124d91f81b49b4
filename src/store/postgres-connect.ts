import postgres from 'postgres';

/** The driver instance every PostgreSQL store module shares: bigint columns arrive as numbers. */
export type PgSql = postgres.Sql<{ bigint: number }>;
/** The same inside `sql.begin`. */
export type PgTx = postgres.TransactionSql<{ bigint: number }>;

export interface PgConnectOptions {
  readonly?: boolean;
  /** Connect timeout and lock wait (SQLite's busy timeout); statements get twice this. Default 5000. */
  busyTimeoutMs?: number;
  /** Connections in the pool (default 10); a held `tryLock` keeps one. */
  max?: number;
}

export const DEFAULT_PG_BUSY_TIMEOUT_MS = 5000;

/**
 * Ids, times and counts are bigint in the schema and JS numbers in the contract; every value
 * stays below 2^53 (ids count rows, times are epoch milliseconds), so parse them as numbers.
 * Parameters of type bigint are serialised the same way.
 */
const BIGINT_AS_NUMBER = {
  to: 20,
  from: [20],
  serialize: (x: number) => String(x),
  parse: (x: string) => Number(x),
};

/**
 * A pool on `url` (connections are opened lazily). Timeouts make an unreachable or stuck
 * database fail fast as StoreUnavailableError (→ 503) instead of hanging a request:
 * - connect: `busyTimeoutMs` (rounded up to seconds, the driver's unit);
 * - lock_timeout: `busyTimeoutMs`, like SQLite's busy timeout;
 * - statement_timeout: 2 × `busyTimeoutMs`; the long reads (streaming the log, aggregates over
 *   it, retention, model bytes) lift it for their own transaction;
 * - idle_in_transaction_session_timeout: a client that stalls inside a transaction cannot hold
 *   locks for long.
 */
export function connectPostgres(url: string, options: PgConnectOptions = {}): PgSql {
  const busy = Math.max(1, Math.round(options.busyTimeoutMs ?? DEFAULT_PG_BUSY_TIMEOUT_MS));
  const connection: Partial<postgres.ConnectionParameters> = {
    application_name: 'liverec',
    lock_timeout: busy,
    statement_timeout: 2 * busy,
    idle_in_transaction_session_timeout: Math.max(60_000, 2 * busy),
  };
  if (options.readonly) connection.default_transaction_read_only = true;
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: Math.ceil(busy / 1000),
    // Close idle connections after a while; a pool of ten per server stays small.
    idle_timeout: 300,
    // Named prepared statements per connection: the hot statements are parsed and planned once.
    prepare: true,
    onnotice: () => {},
    types: { bigint: BIGINT_AS_NUMBER },
    connection,
  });
}

/** SQL run at the start of a transaction that may legitimately run long (streams, aggregates). */
export const LIFT_TIMEOUTS = 'SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0';
