/**
 * Per-client token buckets. A client may send `burst` requests at once, then `requestsPerSecond`
 * on average; past that it gets 429 with Retry-After. Clients are told apart by the API key they
 * present (when it is one of the configured keys) or else by their IP address.
 */
import { timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app.ts';
import { RateLimitedError } from './errors.ts';
import { digest, presentedKeyDigest } from './middleware.ts';

export interface RateLimitOptions {
  /** Sustained rate each client may send at. */
  requestsPerSecond: number;
  /** Requests a rested client may send at once (the bucket's size). */
  burst: number;
}

/**
 * Hard cap on buckets kept. Idle buckets are dropped long before it is reached; it only bounds
 * memory against a flood from many addresses, at the price of giving the least recently seen
 * clients a fresh bucket early.
 */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  at: number;
}

export class TokenBuckets {
  /** Least recently used first: every touch re-inserts its bucket at the end. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;
  /** After this long unused a bucket is full again, so forgetting it changes nothing. */
  private readonly idleMs: number;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {
    const { requestsPerSecond, burst } = options;
    if (!(Number.isFinite(requestsPerSecond) && requestsPerSecond > 0)) {
      throw new Error(`rateLimit.requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
    }
    if (!(Number.isSafeInteger(burst) && burst >= 1)) {
      throw new Error(`rateLimit.burst must be a positive integer, got ${burst}`);
    }
    this.rate = requestsPerSecond / 1000;
    this.burst = burst;
    this.idleMs = burst / this.rate;
  }

  /** Buckets currently held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for `client`: 0 when the request may pass, else whole seconds (≥ 1) to wait. */
  take(client: string): number {
    const now = this.now();
    const bucket = this.buckets.get(client) ?? this.add(now);
    // Clamped at 0: a wall clock stepped backwards must not drain buckets.
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.rate);
    bucket.at = now;
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate / 1000));
  }

  /**
   * A full bucket for a new client, after making room: only new clients grow the map, so this is
   * where idle buckets are dropped, and the least recently used ones while at the cap; O(dropped).
   */
  private add(now: number): Bucket {
    for (const [client, bucket] of this.buckets) {
      if (now - bucket.at < this.idleMs && this.buckets.size < this.maxBuckets) break;
      this.buckets.delete(client);
    }
    return { tokens: this.burst, at: now };
  }
}

/** Every request without a known key, when the adapter cannot say where it came from (e.g. `app.request`). */
const UNKNOWN_ADDRESS = 'unknown';

/**
 * The client a request counts against. A presented key counts only when it is a configured one:
 * otherwise anyone could mint a fresh bucket per request with a made-up key. Only its digest is
 * kept. The address is the socket's; X-Forwarded-For is not trusted, so behind a proxy all
 * keyless clients share the proxy's bucket.
 */
export function clientIdentity(keys: Array<string | undefined>): (c: Context) => string {
  const known = keys.filter((key): key is string => key !== undefined).map(digest);
  return (c) => {
    const presented = presentedKeyDigest(c);
    let match: Buffer | undefined;
    for (const key of known) if (timingSafeEqual(key, presented)) match = key;
    return match ? `key:${match.toString('hex')}` : `ip:${remoteAddress(c)}`;
  };
}

function remoteAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN_ADDRESS;
  } catch {
    // app.request and non-node adapters have no incoming socket.
    return UNKNOWN_ADDRESS;
  }
}

/** 429s clients past their budget; /health is exempt so load-balancer probes are never refused. */
export function rateLimit(buckets: TokenBuckets, identify: (c: Context) => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.path !== '/health') {
      const wait = buckets.take(identify(c));
      if (wait > 0) throw new RateLimitedError(wait);
    }
    await next();
  };
}
