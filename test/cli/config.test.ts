import { describe, expect, it } from 'vitest';
import { describeSettings, engineSettings, serveSettings, type ServeFlags } from '../../src/cli/config.ts';
import { cli, tempDir } from './helpers.ts';

const tmp = tempDir();
const DEFAULTS = { host: '127.0.0.1', port: 8787, log: 'json' as const };
const SALT = 'pepper-0123456789-abcdef';

let files = 0;
/** A config file holding `json` (an object is serialised, a string written as is). */
function config(json: unknown): string {
  return tmp.write(`config-${++files}.json`, typeof json === 'string' ? json : JSON.stringify(json));
}

const settings = (flags: ServeFlags = {}, env: Record<string, string> = {}) => serveSettings(flags, env, DEFAULTS);

/** The one-line message `fn` fails with. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect((err as Error).name).toBe('CliError');
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

describe('serve settings', () => {
  it('defaults: loopback, port 8787, JSON logs, no CORS, no rate limit, 5 s busy timeout, stored engine settings', () => {
    expect(settings()).toEqual({
      host: '127.0.0.1',
      port: 8787,
      busyTimeoutMs: 5000,
      app: { apiKey: undefined, readKey: undefined, cors: undefined, rateLimit: undefined, log: true, maxBodyBytes: undefined },
      engine: {},
    });
  });

  it('reads every key of the file', () => {
    const engine = {
      algorithm: 'item-knn',
      params: { neighbors: 20, seed: 3 },
      signals: { view: { weight: 0.5 }, dislike: { weight: -8, halfLifeDays: 30 } },
      decayFloor: 0.2,
      createMissingItems: false,
      retrainEvery: 500,
      retrainMinutes: 15,
      keepModels: 5,
      popularityHalfLifeDays: 7,
      floodEventsPerSecond: 50,
      floodWindowSeconds: 10,
      segments: 4,
      pseudonymSalt: SALT,
      retentionDays: 365,
      listCacheItems: 1000,
      ann: 'off',
    };
    const file = config({
      host: '0.0.0.0',
      port: 9000,
      busyTimeoutMs: 1000,
      maxBodyBytes: 65536,
      log: 'off',
      cors: { origins: ['https://shop.example', 'http://localhost:3000'] },
      rateLimit: { requestsPerSecond: 20, burst: 40 },
      engine,
    });
    expect(settings({ config: file })).toEqual({
      host: '0.0.0.0',
      port: 9000,
      busyTimeoutMs: 1000,
      app: {
        apiKey: undefined,
        readKey: undefined,
        cors: { origins: ['https://shop.example', 'http://localhost:3000'] },
        rateLimit: { requestsPerSecond: 20, burst: 40 },
        log: false,
        maxBodyBytes: 65536,
      },
      engine,
    });
  });

  it('takes each setting from flag, else environment, else file, else default', () => {
    const file = config({ port: 1111, host: '10.0.0.1', log: 'off', cors: { origins: '*' }, rateLimit: { requestsPerSecond: 5 } });
    const env = { LIVEREC_PORT: '2222', LIVEREC_LOG: 'json', LIVEREC_CORS_ORIGINS: 'https://a.example, https://b.example' };
    const s = settings({ config: file, port: '3333' }, env);
    expect(s.port).toBe(3333); // flag over env over file
    expect(s.host).toBe('10.0.0.1'); // file over default
    expect(s.app.log).toBe(true); // env over file
    expect(s.app.cors).toEqual({ origins: ['https://a.example', 'https://b.example'] });
    expect(s.app.rateLimit).toEqual({ requestsPerSecond: 5, burst: 5 });
    expect(settings({ config: file }, { LIVEREC_PORT: '2222' }).port).toBe(2222);
    // "off" in the environment or a flag switches off what the file turned on.
    const off = settings({ config: file, corsOrigins: 'off' }, { LIVEREC_RATE_LIMIT: 'off' });
    expect(off.app.cors).toBeUndefined();
    expect(off.app.rateLimit).toBeUndefined();
    // LIVEREC_CONFIG names the file when --config does not; empty variables count as unset.
    expect(settings({}, { LIVEREC_CONFIG: file, LIVEREC_HOST: '' }).host).toBe('10.0.0.1');
  });

  it('reads LIVEREC_RATE_LIMIT as rps or rps/burst, and keys from the environment only', () => {
    expect(settings({}, { LIVEREC_RATE_LIMIT: '50' }).app.rateLimit).toEqual({ requestsPerSecond: 50, burst: 50 });
    expect(settings({}, { LIVEREC_RATE_LIMIT: '50/100' }).app.rateLimit).toEqual({ requestsPerSecond: 50, burst: 100 });
    expect(settings({}, { LIVEREC_RATE_LIMIT: '0.5' }).app.rateLimit).toEqual({ requestsPerSecond: 0.5, burst: 1 });
    expect(settings({ rateLimit: '2/3' }, { LIVEREC_RATE_LIMIT: '50' }).app.rateLimit).toEqual({ requestsPerSecond: 2, burst: 3 });
    const keys = settings({}, { LIVEREC_API_KEY: 'write-secret', LIVEREC_READ_KEY: 'read-secret' }).app;
    expect(keys).toMatchObject({ apiKey: 'write-secret', readKey: 'read-secret' });
  });

  it('takes the pseudonym salt from LIVEREC_PSEUDONYM_SALT over the file, for import as for serve', () => {
    const file = config({ engine: { pseudonymSalt: 'from-the-file-0123456789' } });
    expect(settings({ config: file }).engine.pseudonymSalt).toBe('from-the-file-0123456789');
    expect(settings({ config: file }, { LIVEREC_PSEUDONYM_SALT: SALT }).engine.pseudonymSalt).toBe(SALT);
    expect(engineSettings(file, {}).pseudonymSalt).toBe('from-the-file-0123456789');
    expect(engineSettings(undefined, { LIVEREC_CONFIG: file, LIVEREC_PSEUDONYM_SALT: SALT }).pseudonymSalt).toBe(SALT);
    expect(engineSettings(undefined, {})).toEqual({});
  });
});

describe('bad settings: one line naming the key and the rule', () => {
  it.each([
    [{ port: 70000 }, 'port must be an integer from 0 to 65535'],
    [{ port: '80' }, 'port must be an integer from 0 to 65535'],
    [{ log: true }, 'log must be "json" or "off"'],
    [{ maxBodyBytes: 0 }, 'maxBodyBytes must be an integer number of bytes from 1 to 1073741824'],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs must be an integer number of milliseconds from 0 to 60000'],
    [{ cors: { origins: ['https://shop.example/'] } }, 'cors.origins.0 must be "*" or a non-empty list of origins'],
    [{ cors: { origins: [] } }, 'cors.origins must be "*" or a non-empty list of origins'],
    [{ rateLimit: { requestsPerSecond: 0 } }, 'rateLimit.requestsPerSecond must be a positive number of requests per second'],
    [{ rateLimit: { requestsPerSecond: 5, burst: 1.5 } }, 'rateLimit.burst must be a positive integer number of requests'],
    [{ engine: { algorithm: 'deep-learning' } }, 'engine.algorithm must be one of als, implicit-als, svd, item-knn, popular'],
    [{ engine: { params: { factors: [8] } } }, 'engine.params.factors must be a number, string or boolean'],
    [{ engine: { params: 8 } }, "engine.params must be an object of the algorithm's parameters"],
    [{ engine: { signals: { view: { weight: 'heavy' } } } }, 'engine.signals.view.weight must be a finite number'],
    [{ engine: { signals: { click: { halfLifeDays: -1 } } } }, 'engine.signals.click.halfLifeDays must be a number of days from 0'],
    [{ engine: { decayFloor: 1.5 } }, 'engine.decayFloor must be a number from 0 to 1'],
    [{ engine: { createMissingItems: 'yes' } }, 'engine.createMissingItems must be true or false'],
    [{ engine: { retrainEvery: -5 } }, 'engine.retrainEvery must be an integer number of events ≥ 0'],
    // Past setInterval's 2^31 − 1 ms Node would retrain every millisecond.
    [{ engine: { retrainMinutes: 40_000 } }, 'engine.retrainMinutes must be a number of minutes from 0 (never by time) to 35791'],
    [{ engine: { keepModels: 0 } }, 'engine.keepModels must be an integer from 1 to 1000'],
    [{ engine: { popularityHalfLifeDays: -1 } }, 'engine.popularityHalfLifeDays must be a number of days from 0'],
    [{ engine: { floodEventsPerSecond: -1 } }, 'engine.floodEventsPerSecond must be a number ≥ 0'],
    [{ engine: { floodWindowSeconds: 0 } }, 'engine.floodWindowSeconds must be an integer number of seconds from 1 to 3600'],
    [{ engine: { segments: 2.5 } }, 'engine.segments must be an integer from 0 (off) to 256'],
    [{ engine: { pseudonymSalt: 'short' } }, 'engine.pseudonymSalt must be a string of at least 16 characters, or null'],
    [{ engine: { retentionDays: -1 } }, 'engine.retentionDays must be a number of days from 0 (keep everything)'],
    [{ engine: { listCacheItems: 1.5 } }, 'engine.listCacheItems must be an integer number of items ≥ 0 (0 = off)'],
    [{ engine: { ann: 'fast' } }, 'engine.ann must be "auto", "on" or "off"'],
  ])('%j', (json, message) => {
    const file = config(json);
    expect(failure(() => settings({ config: file }))).toContain(`config ${file}: ${message}`);
  });

  it('refuses unknown keys by name, listing the known ones', () => {
    const top = config({ prot: 80 });
    expect(failure(() => settings({ config: top }))).toBe(
      `config ${top}: unknown key prot (known: host, port, busyTimeoutMs, maxBodyBytes, log, cors, rateLimit, engine)`,
    );
    const nested = config({ engine: { decayFlor: 0.2, signals: { teleport: { weight: 1 } } } });
    const message = failure(() => settings({ config: nested }));
    expect(message).toContain('unknown key engine.decayFlor (known: algorithm, params, signals, decayFloor,');
    expect(message).toContain('unknown key engine.signals.teleport (known: view, click, cart, purchase, like, dislike, rating)');
    expect(message).not.toContain('\n');
  });

  it('refuses keys in the file and points to the environment variable', () => {
    const file = config({ apiKey: 'hunter2-hunter2' });
    const message = failure(() => settings({ config: file }));
    expect(message).toBe(`config ${file}: apiKey is a secret and is not read from the config file; set LIVEREC_API_KEY in the environment`);
  });

  it('checks environment variables and flags with the same rules, naming them', () => {
    expect(failure(() => settings({}, { LIVEREC_PORT: 'eighty' }))).toBe('LIVEREC_PORT must be an integer from 0 to 65535');
    expect(failure(() => settings({ port: '-1' }))).toBe('--port must be an integer from 0 to 65535');
    expect(failure(() => settings({}, { LIVEREC_LOG: 'yes' }))).toBe('LIVEREC_LOG must be "json" or "off"');
    expect(failure(() => settings({}, { LIVEREC_RATE_LIMIT: 'fast' }))).toBe('LIVEREC_RATE_LIMIT (requestsPerSecond) must be a positive number of requests per second');
    expect(failure(() => settings({}, { LIVEREC_RATE_LIMIT: '1/2/3' }))).toMatch(/^LIVEREC_RATE_LIMIT must be <requests per second> or/);
    expect(failure(() => settings({ corsOrigins: 'shop.example' }))).toMatch(/^--cors-origins \(origins\.0\) must be "\*" or a non-empty list of origins/);
    expect(failure(() => settings({ maxBodyBytes: '1e12' }))).toMatch(/^--max-body-bytes must be an integer number of bytes/);
    expect(failure(() => settings({ busyTimeout: 'soon' }))).toMatch(/^--busy-timeout must be an integer number of milliseconds/);
  });

  it('never prints a secret: not a short salt, not JSON around one', () => {
    expect(failure(() => settings({}, { LIVEREC_PSEUDONYM_SALT: 'tiny-secret' }))).toBe(
      'LIVEREC_PSEUDONYM_SALT must be a string of at least 16 characters, or null',
    );
    const broken = config(`{"engine": {"pseudonymSalt": "do-not-print-this-salt" oops}}`);
    const message = failure(() => settings({ config: broken }));
    expect(message).toMatch(new RegExp(`^config ${broken} is not valid JSON`));
    expect(message).not.toContain('do-not-print');
    expect(failure(() => settings({ config: tmp.path('missing.json') }))).toMatch(/^cannot read config .*missing\.json: no such file$/);
    expect(failure(() => settings({ config: config('[1]') }))).toMatch(/: must be a JSON object$/);
  });

  it('says which protections are on without their values', () => {
    const s = settings(
      { config: config({ cors: { origins: ['https://shop.example'] }, rateLimit: { requestsPerSecond: 50, burst: 100 } }) },
      { LIVEREC_API_KEY: 'write-secret', LIVEREC_READ_KEY: 'read-secret', LIVEREC_PSEUDONYM_SALT: SALT },
    );
    const line = describeSettings(s);
    expect(line).toBe('settings: log json · cors https://shop.example · rate limit 50/s burst 100 · keys reads and writes · pseudonymous ids on\n');
    for (const secret of ['write-secret', 'read-secret', SALT]) expect(line).not.toContain(secret);
  });
});

describe('liverec serve with a bad config', () => {
  it('fails with exit code 1 and one line, before opening the database', async () => {
    const file = config({ engine: { decayFloor: 2 } });
    const result = await cli('serve', '--db', tmp.path('never-created.db'), '--config', file);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `liverec: config ${file}: engine.decayFloor must be a number from 0 to 1\n` });
    const demo = await cli('demo', '--db', tmp.path('demo-never.db'), '--config', file);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toBe(`liverec: config ${file}: engine.decayFloor must be a number from 0 to 1\n`);
  });
});
