/**
 * The settings of the commands that serve (`serve`, `demo`) and the engine settings `import`
 * must share with them (the pseudonym salt): one JSON file checked with zod, environment
 * variables for secrets and common knobs, and flags. Each setting is taken from the first of
 * flag > environment > file > default that gives it. Secret values never appear in a message.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { EngineConfigInput } from '../engine/config.ts';
import { ALGORITHMS, type Algorithm } from '../model/index.ts';
import type { AppOptions } from '../server/app.ts';
import { isOrigin } from '../server/cors.ts';
import { DEFAULT_BUSY_TIMEOUT_MS } from '../store/sqlite.ts';
import { FEEDBACK_TYPES } from '../store/types.ts';
import { CliError } from './errors.ts';

const MAX_TIMER_MINUTES = 35_791; // setInterval's limit is 2^31 − 1 ms; beyond it Node fires every 1 ms

const RULES = {
  host: 'must be a non-empty host name or address',
  port: 'must be an integer from 0 to 65535',
  busyTimeoutMs: 'must be an integer number of milliseconds from 0 to 60000',
  maxBodyBytes: 'must be an integer number of bytes from 1 to 1073741824',
  log: 'must be "json" or "off"',
  origins: 'must be "*" or a non-empty list of origins like https://shop.example (scheme, host and port only)',
  requestsPerSecond: 'must be a positive number of requests per second',
  burst: 'must be a positive integer number of requests',
  algorithm: `must be one of ${ALGORITHMS.join(', ')}`,
  params: "must be an object of the algorithm's parameters",
  param: 'must be a number, string or boolean (the algorithm checks its range when the engine opens)',
  weight: 'must be a finite number',
  halfLifeDays: 'must be a number of days from 0 (never decays) to 36500',
  decayFloor: 'must be a number from 0 to 1',
  createMissingItems: 'must be true or false',
  retrainEvery: 'must be an integer number of events ≥ 0 (0 = never by count)',
  retrainMinutes: `must be a number of minutes from 0 (never by time) to ${MAX_TIMER_MINUTES}`,
  keepModels: 'must be an integer from 1 to 1000',
  popularityHalfLifeDays: 'must be a number of days from 0 (no decay) to 36500',
  floodEventsPerSecond: 'must be a number ≥ 0 (0 = off)',
  floodWindowSeconds: 'must be an integer number of seconds from 1 to 3600',
  segments: 'must be an integer from 0 (off) to 256',
  pseudonymSalt: 'must be a string of at least 16 characters, or null',
  retentionDays: 'must be a number of days from 0 (keep everything) to 36500',
  blend: 'must be false (off) or an object { "historyItems": integer from 1 to 10000 }',
  listCacheItems: 'must be an integer number of items ≥ 0 (0 = off)',
  ann: 'must be "auto", "on" or "off"',
} as const;

const int = (rule: string, min: number, max = Number.MAX_SAFE_INTEGER) => z.number({ error: rule }).int(rule).min(min, rule).max(max, rule);
const num = (rule: string, min: number, max = Number.MAX_VALUE) => z.number({ error: rule }).min(min, rule).max(max, rule);
const days = (rule: string) => num(rule, 0, 36_500);

const signalRule = z.strictObject({ weight: z.number({ error: RULES.weight }).finite(RULES.weight), halfLifeDays: days(RULES.halfLifeDays) }).partial();

const engineSchema = z
  .strictObject({
    algorithm: z.enum(ALGORITHMS as [Algorithm, ...Algorithm[]], { error: RULES.algorithm }),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()], { error: RULES.param }), { error: RULES.params }),
    signals: z.strictObject(Object.fromEntries(FEEDBACK_TYPES.map((type) => [type, signalRule.optional()]))),
    decayFloor: num(RULES.decayFloor, 0, 1),
    createMissingItems: z.boolean({ error: RULES.createMissingItems }),
    retrainEvery: int(RULES.retrainEvery, 0),
    retrainMinutes: num(RULES.retrainMinutes, 0, MAX_TIMER_MINUTES),
    keepModels: int(RULES.keepModels, 1, 1000),
    popularityHalfLifeDays: days(RULES.popularityHalfLifeDays),
    floodEventsPerSecond: num(RULES.floodEventsPerSecond, 0),
    floodWindowSeconds: int(RULES.floodWindowSeconds, 1, 3600),
    segments: int(RULES.segments, 0, 256),
    pseudonymSalt: z.string({ error: RULES.pseudonymSalt }).min(16, RULES.pseudonymSalt).nullable(),
    retentionDays: days(RULES.retentionDays),
    blend: z.union([z.literal(false), z.strictObject({ historyItems: int(RULES.blend, 1, 10_000) })], { error: RULES.blend }),
    listCacheItems: int(RULES.listCacheItems, 0),
    ann: z.enum(['auto', 'on', 'off'], { error: RULES.ann }),
  })
  .partial();

const origin = z.string({ error: RULES.origins }).refine(isOrigin, RULES.origins);

/** The config file: HTTP settings at the top level (named as in `createApp`'s options), engine settings under `engine`. */
const fileSchema = z
  .strictObject({
    host: z.string({ error: RULES.host }).min(1, RULES.host),
    port: int(RULES.port, 0, 65_535),
    busyTimeoutMs: int(RULES.busyTimeoutMs, 0, 60_000),
    maxBodyBytes: int(RULES.maxBodyBytes, 1, 1 << 30),
    log: z.enum(['json', 'off'], { error: RULES.log }),
    cors: z.strictObject({ origins: z.union([z.literal('*'), z.array(origin).min(1, RULES.origins)], { error: RULES.origins }) }),
    rateLimit: z.strictObject({
      requestsPerSecond: z.number({ error: RULES.requestsPerSecond }).positive(RULES.requestsPerSecond).max(1e9, RULES.requestsPerSecond),
      burst: int(RULES.burst, 1).optional(),
    }),
    engine: engineSchema,
  })
  .partial();

export type FileConfig = z.infer<typeof fileSchema>;

/** Keys refused in the file because they are secrets: they belong in the environment. */
const SECRET_KEYS: Record<string, string> = { apiKey: 'LIVEREC_API_KEY', readKey: 'LIVEREC_READ_KEY' };

export interface ServeDefaults {
  host: string;
  port: number;
  /** `serve` logs by default, the interactive `demo` does not. */
  log: 'json' | 'off';
}

/** Flag values as commander hands them over: raw text, checked here with the file's rules. */
export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  corsOrigins?: string;
  rateLimit?: string;
  log?: string;
  maxBodyBytes?: string;
  busyTimeout?: string;
}

export interface ServeSettings {
  host: string;
  port: number;
  busyTimeoutMs: number;
  app: Pick<AppOptions, 'apiKey' | 'readKey' | 'cors' | 'rateLimit' | 'log' | 'maxBodyBytes'>;
  engine: EngineConfigInput;
}

type Env = Record<string, string | undefined>;

/** Everything `serve` and `demo` run with. */
export function serveSettings(flags: ServeFlags, env: Env, defaults: ServeDefaults): ServeSettings {
  const file = readConfigFile(flags.config ?? given(env.LIVEREC_CONFIG));
  const fromEnv = textLayer(env, {
    host: 'LIVEREC_HOST', port: 'LIVEREC_PORT', cors: 'LIVEREC_CORS_ORIGINS', rateLimit: 'LIVEREC_RATE_LIMIT', log: 'LIVEREC_LOG',
  });
  const fromFlags = textLayer(flags as Env, {
    host: 'host', port: 'port', cors: 'corsOrigins', rateLimit: 'rateLimit', log: 'log', maxBodyBytes: 'maxBodyBytes', busyTimeoutMs: 'busyTimeout',
  }, (name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  const s = { ...file, ...fromEnv, ...fromFlags };
  const rateLimit = s.rateLimit === OFF ? undefined : s.rateLimit;
  const cors = s.cors === OFF ? undefined : s.cors;
  return {
    host: s.host ?? defaults.host,
    port: s.port ?? defaults.port,
    busyTimeoutMs: s.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    app: {
      apiKey: given(env.LIVEREC_API_KEY),
      readKey: given(env.LIVEREC_READ_KEY),
      cors,
      // One second's worth of requests at once unless a burst is given.
      rateLimit: rateLimit && { requestsPerSecond: rateLimit.requestsPerSecond, burst: rateLimit.burst ?? Math.max(1, Math.ceil(rateLimit.requestsPerSecond)) },
      log: (s.log ?? defaults.log) === 'json',
      maxBodyBytes: s.maxBodyBytes,
    },
    engine: engineLayer(file.engine, env),
  };
}

/** The engine settings of the config file and the environment, for commands that write without serving (import). */
export function engineSettings(configPath: string | undefined, env: Env): EngineConfigInput {
  return engineLayer(readConfigFile(configPath ?? given(env.LIVEREC_CONFIG)).engine, env);
}

/** One line for stderr at startup; says which protections are on, never their secrets. */
export function describeSettings(s: ServeSettings): string {
  const { app } = s;
  const parts = [
    `log ${app.log ? 'json' : 'off'}`,
    `cors ${app.cors ? (app.cors.origins === '*' ? '*' : app.cors.origins.join(' ')) : 'off'}`,
    `rate limit ${app.rateLimit ? `${app.rateLimit.requestsPerSecond}/s burst ${app.rateLimit.burst}` : 'off'}`,
    `keys ${app.readKey ? 'reads and writes' : app.apiKey ? 'writes' : 'off'}`,
    `pseudonymous ids ${s.engine.pseudonymSalt ? 'on' : 'off'}`,
  ];
  return `settings: ${parts.join(' · ')}\n`;
}

const OFF = 'off' as const;

function engineLayer(file: EngineConfigInput | undefined, env: Env): EngineConfigInput {
  const engine: EngineConfigInput = { ...file };
  const salt = given(env.LIVEREC_PSEUDONYM_SALT);
  if (salt !== undefined) engine.pseudonymSalt = checked(engineSchema.shape.pseudonymSalt, salt, 'LIVEREC_PSEUDONYM_SALT');
  return engine;
}

type Layer = Omit<FileConfig, 'cors' | 'rateLimit' | 'engine'> & { cors?: FileConfig['cors'] | typeof OFF; rateLimit?: FileConfig['rateLimit'] | typeof OFF };

/**
 * Settings given as text (environment variables, flags), parsed into the file's shape and
 * checked with the file's rules, so `--port x`, `LIVEREC_PORT=x` and `"port": "x"` fail alike.
 */
function textLayer(source: Env, names: Partial<Record<keyof Layer, string>>, label: (name: string) => string = (name) => name): Layer {
  const layer: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(names) as Array<[keyof Layer, string]>) {
    const raw = given(source[name]);
    if (raw === undefined) continue;
    const where = label(name);
    const shape = fileSchema.shape[key as keyof typeof fileSchema.shape];
    if ((key === 'cors' || key === 'rateLimit') && raw.trim() === OFF) layer[key] = OFF;
    else if (key === 'cors') layer.cors = checked(shape, { origins: raw.trim() === '*' ? '*' : raw.split(',').map((o) => o.trim()).filter((o) => o !== '') }, where);
    else if (key === 'rateLimit') layer.rateLimit = checked(shape, rateLimitText(raw, where), where);
    else if (key === 'host' || key === 'log') layer[key] = checked(shape, raw.trim(), where);
    else layer[key] = checked(shape, raw.trim() === '' ? raw : Number(raw), where);
  }
  return layer as Layer;
}

/** "50" (50 per second, burst 50) or "50/100" (burst 100). */
function rateLimitText(raw: string, where: string): { requestsPerSecond: unknown; burst?: unknown } {
  const match = /^\s*([^/\s]+)\s*(?:\/\s*([^/\s]+)\s*)?$/.exec(raw);
  if (!match) throw new CliError(`${where} must be <requests per second> or <requests per second>/<burst>, e.g. 50 or 50/100, or off`);
  return { requestsPerSecond: Number(match[1]), ...(match[2] !== undefined && { burst: Number(match[2]) }) };
}

function readConfigFile(path: string | undefined): FileConfig {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'not a regular file' : (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error, which may be a secret: give the place only.
    throw new CliError(`config ${path} is not valid JSON${place(text, (err as Error).message)}`);
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    for (const [key, variable] of Object.entries(SECRET_KEYS)) {
      if (key in json) throw new CliError(`config ${path}: ${key} is a secret and is not read from the config file; set ${variable} in the environment`);
    }
  }
  return checked(fileSchema, json, `config ${path}:`, true);
}

/** Parses `value` or fails with every problem on one line, each naming its key and rule. */
function checked<S extends z.ZodType>(schema: S, value: unknown, where: string, prefixed = false): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      return issue.keys.map((k) => `unknown key ${key ? `${key}.` : ''}${k} (known: ${known.join(', ')})`).join('; ');
    }
    if (issue.code === 'invalid_type' && issue.path.length === 0 && prefixed) return 'must be a JSON object';
    return prefixed ? `${key || 'value'} ${issue.message}` : `${key ? `(${key}) ` : ''}${issue.message}`;
  });
  throw new CliError(`${where} ${problems.join('; ')}`);
}

/** The keys an object schema accepts at `path` (for "known: …" in unknown-key messages). */
function keysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  let current: unknown = schema;
  const unwrap = () => {
    while (current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current.unwrap();
  };
  for (const key of path) {
    unwrap();
    if (!(current instanceof z.ZodObject)) return [];
    current = current.shape[String(key)];
  }
  unwrap();
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** " (line L, column C)" when V8's message gives a position. */
function place(text: string, message: string): string {
  const match = /position (\d+)/.exec(message);
  if (!match) return '';
  const before = text.slice(0, Number(match[1])).split('\n');
  return ` (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

/** An empty variable means "not set", not "the empty value". */
function given(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
