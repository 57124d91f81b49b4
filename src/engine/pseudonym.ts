import { createHmac } from 'node:crypto';

/**
 * Pseudonymous user ids: with a salt configured, the engine stores and learns from
 * HMAC-SHA-256(salt, userId) instead of the raw id, so the database never holds it. Callers keep
 * using raw ids; the same id always maps to the same pseudonym.
 */
export function pseudonymizer(salt: string | null): (userId: string) => string {
  if (!salt) return (userId) => userId;
  return (userId) => 'p:' + createHmac('sha256', salt).update(userId).digest('base64url').slice(0, 32);
}

/** A one-way fingerprint for audit entries about erased users (never the raw id). */
export function fingerprint(userId: string, salt: string): string {
  return createHmac('sha256', `audit:${salt}`).update(userId).digest('hex').slice(0, 16);
}
