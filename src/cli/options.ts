import { statSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError } from './errors.ts';
import { ALGORITHMS } from '../model/index.ts';

/** Parsers for numeric flags: commander reports their message as "option '--k <n>' argument 'x' is invalid. <message>". */
export function integer(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('Expected an integer.');
  return n;
}

export function positiveInteger(raw: string): number {
  const n = integer(raw);
  if (n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

/** For `n` limits the engine documents (1–100). */
export function listLength(raw: string): number {
  const n = positiveInteger(raw);
  if (n > 100) throw new InvalidArgumentError('Expected an integer from 1 to 100.');
  return n;
}

export function number(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Expected a finite number.');
  return n;
}

export function port(raw: string): number {
  const n = integer(raw);
  if (n < 0 || n > 65535) throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  return n;
}

/** Model hyperparameter flags and the param each sets; only flags the user gives are passed on. */
const PARAM_FLAGS = [
  { flag: '--factors <n>', key: 'factors', help: 'latent factors (als, svd, implicit-als)', parse: integer },
  { flag: '--iterations <n>', key: 'iterations', help: 'training sweeps or epochs (als, svd, implicit-als)', parse: integer },
  { flag: '--reg <x>', key: 'reg', help: 'regularization (als, svd, implicit-als)', parse: number },
  { flag: '--alpha <x>', key: 'alpha', help: 'confidence scale (implicit-als)', parse: number },
  { flag: '--learning-rate <x>', key: 'learningRate', help: 'SGD learning rate (svd)', parse: number },
  { flag: '--neighbors <n>', key: 'neighbors', help: 'neighbours kept per item (item-knn)', parse: integer },
  { flag: '--lambda <x>', key: 'lambda', help: 'L2 penalty on the item–item weights (ease)', parse: number },
  { flag: '--seed <n>', key: 'seed', help: 'random seed (every algorithm)', parse: integer },
] as const;

export function algorithmOption(description: string, defaultValue?: string): Option {
  const option = new Option('--algorithm <name>', description).choices(ALGORITHMS);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

export function addParamOptions(command: Command): Command {
  for (const { flag, help, parse } of PARAM_FLAGS) command.option(flag, help, parse);
  return command;
}

/**
 * The params the user set explicitly. Defaults stay with the model so they are documented in
 * one place; a flag the algorithm does not take reaches the model's strict schema, which names it.
 */
export function givenParams(options: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const { key } of PARAM_FLAGS) if (options[key] !== undefined) params[key] = options[key];
  return params;
}

/** Fails with a message naming `path` when it is missing or not a regular file (Node's EISDIR names neither). */
export function requireFile(path: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!isFile) throw new CliError(`cannot read ${path}: not a regular file`);
  return path;
}

/**
 * `--db`: a SQLite file or a postgres:// URL, in every command that opens a database; LIVEREC_DB
 * stands in for it (so a URL with a password need not be typed on the command line).
 */
export function databaseOption(role = 'the database'): Option {
  return new Option('--db <file|url>', `${role}: a SQLite file, or a postgres://… URL shared by several servers`).env('LIVEREC_DB').makeOptionMandatory();
}
