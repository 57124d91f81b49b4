import Database from 'better-sqlite3';

/** A request referenced a record that does not exist; `field` names the offending input field. */
export class NotFoundError extends Error {
  constructor(
    readonly field: string,
    readonly id: string,
    message = `${field} '${id}' does not exist`,
  ) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export type UnavailableReason = 'full' | 'busy' | 'io' | 'readonly';

/**
 * The database cannot serve the request right now (disk full, lock held too long, I/O failure,
 * file turned read-only or unreachable).
 * The server maps this to 503: the request was fine and may succeed on retry.
 */
export class StoreUnavailableError extends Error {
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Stored model bytes no longer match the checksum taken when they were saved. */
export class CorruptModelError extends Error {
  constructor(readonly version: number) {
    super(`model ${version} failed its checksum: stored bytes must match the sha256 recorded at save time`);
    this.name = 'CorruptModelError';
  }
}

/** The database file's schema version is one this code cannot use. */
export class IncompatibleSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleSchemaError';
  }
}

// Our own wording per failure class: SQLite's messages can carry SQL text, which must not
// reach API clients.
const UNAVAILABLE: ReadonlyArray<[RegExp, UnavailableReason, string]> = [
  [/^SQLITE_FULL/, 'full', 'storage is full: the write was rolled back; free disk space and retry'],
  [/^SQLITE_(BUSY|LOCKED)/, 'busy', 'storage is busy: the database stayed locked past the busy timeout; retry later'],
  [/^SQLITE_IOERR/, 'io', 'storage I/O failed: the disk reported an error and the operation did not complete'],
  [/^SQLITE_READONLY/, 'readonly', 'storage is read-only: the database file or its directory cannot be written; the write did not happen'],
  [/^SQLITE_CANTOPEN/, 'io', 'storage cannot be opened: the database file or its directory is missing or not accessible'],
];

/** Maps transient SQLite failures to StoreUnavailableError; anything else is returned unchanged. */
export function translateSqliteError(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  for (const [pattern, reason, message] of UNAVAILABLE) {
    if (pattern.test(err.code)) return new StoreUnavailableError(reason, message, { cause: err });
  }
  return err;
}
