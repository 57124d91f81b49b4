import { CommanderError } from 'commander';

/**
 * Error classes that describe a problem with the user's input or environment rather than a bug:
 * the message says everything, so a stack trace would only bury it.
 */
const USER_ERRORS = new Set([
  'InvalidInputError',
  'DataFormatError',
  'NotFoundError',
  'UnknownIdError',
  'ModelStateError',
  'StoreUnavailableError',
  'CorruptModelError',
  'IncompatibleSchemaError',
  'SqliteError',
  'CliError',
]);

/** A usage problem found by a command itself (conflicting flags, missing database). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code for `err`, after writing its explanation to `writeErr`. */
export function reportError(err: unknown, writeErr: (text: string) => void): number {
  // Commander has already printed its own message (unknown option, missing argument, --help).
  if (err instanceof CommanderError) return err.exitCode;
  if (!(err instanceof Error)) {
    writeErr(`liverec: ${String(err)}\n`);
    return 1;
  }
  if (isUserError(err)) {
    writeErr(`liverec: ${oneLine(err.message)}\n`);
    return 1;
  }
  // Anything else is a bug in liverec: keep the stack so it can be reported.
  writeErr(`liverec: internal error: ${err.stack ?? err.message}\n`);
  return 1;
}

function isUserError(err: Error): boolean {
  if (USER_ERRORS.has(err.name)) return true;
  // Node's file errors (ENOENT, EACCES, EISDIR…) name the path in their message.
  if (typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall) return true;
  // Thrown by src/wasm/module.ts when `npm run build:wasm` has not run.
  return err.message.startsWith('WebAssembly core not built');
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}
