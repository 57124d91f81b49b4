/**
 * What runs in front of every /v1 route (API key check, then the body read), and `jsonBody`,
 * through which routes get at the body that was read. The key digests are shared with the rate
 * limiter, which counts requests per key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { InvalidInputError } from '../errors.ts';
import type { AppEnv } from './app.ts';
import { PayloadTooLargeError, UnauthorizedError } from './errors.ts';

// Comparing fixed-size digests keeps timingSafeEqual usable (it needs equal lengths) and keeps
// the key's length from leaking through an early length check.
export const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

const BEARER = /^Bearer +(\S+) *$/i;

/** The digest of the bearer token the request presents (of '' when there is none). */
export function presentedKeyDigest(c: Context): Buffer {
  return digest(BEARER.exec(c.req.header('authorization') ?? '')?.[1] ?? '');
}

/**
 * Guards `/v1/*`: writes (anything but GET/HEAD) need `apiKey`; reads need `readKey` or
 * `apiKey` when a read key is configured, and are open otherwise. The keys are never logged
 * and never echoed in errors.
 */
export function requireKeys(options: { apiKey?: string; readKey?: string }): MiddlewareHandler {
  for (const [name, key] of Object.entries(options)) {
    // An empty key would usually mean an unset environment variable, not an intent to disable auth.
    if (key === '') throw new Error(`${name} must be a non-empty string when set`);
  }
  const write = options.apiKey === undefined ? [] : [digest(options.apiKey)];
  const read = options.readKey === undefined ? [] : [digest(options.readKey), ...write];

  return async (c, next) => {
    const isRead = c.req.method === 'GET' || c.req.method === 'HEAD';
    const accepted = isRead ? read : write;
    if (accepted.length > 0) {
      const presented = presentedKeyDigest(c);
      // Check every key without short-circuiting, so timing does not reveal which one matched.
      let ok = false;
      for (const key of accepted) ok = timingSafeEqual(key, presented) || ok;
      if (!ok) throw new UnauthorizedError();
    }
    await next();
  };
}

/**
 * Past this many bytes an oversized body is no longer drained but cancelled: a client that keeps
 * uploading may then see a reset instead of the 413, which is acceptable for a 16× overshoot.
 */
const DRAIN_FACTOR = 16;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the whole request body into `rawBody`, enforcing `maxBytes`. hono's bodyLimit answers
 * as soon as the limit is crossed and leaves the rest unread, so whether a client still writing
 * its body ever sees the 413 depends on the adapter (a socket closed under an upload surfaces as
 * a reset). Here an oversized body is drained and discarded first, and only then rejected. Content-Length is checked before reading
 * and bytes are counted while reading, because chunked bodies announce no length.
 */
export function readBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Reads carry no body; not even looking at one keeps @hono/node-server from building a full
    // Request object (headers, AbortSignal) for every GET.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const stream = c.req.raw.body;
    if (stream === null) return next();
    const declared = Number(c.req.header('content-length'));
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooLarge = declared > maxBytes;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) tooLarge = true;
      if (tooLarge && size > maxBytes * DRAIN_FACTOR) {
        await reader.cancel();
        break;
      }
      // Keep nothing once the body is known to be rejected; draining must not cost memory.
      if (!tooLarge) chunks.push(value);
    }
    if (tooLarge) throw new PayloadTooLargeError(maxBytes);
    c.set('rawBody', Buffer.concat(chunks, size));
    await next();
  };
}

/** The request body parsed as JSON; 400 with field `body` when it is missing or malformed. */
export function jsonBody(c: Context<AppEnv>): unknown {
  const raw = c.get('rawBody');
  if (raw === undefined || raw.byteLength === 0) {
    throw new InvalidInputError('body is required: send a JSON document', 'body');
  }
  try {
    return JSON.parse(utf8.decode(raw));
  } catch {
    throw new InvalidInputError('body must be valid UTF-8 JSON', 'body');
  }
}
