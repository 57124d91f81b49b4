/**
 * Validators for the static files the server answers (the dashboard's assets, the API docs):
 * one strong ETag per body, computed once, and the If-None-Match check that turns a repeat
 * request into a 304.
 */
import { createHash } from 'node:crypto';

/** A strong ETag for a body: its SHA-256, base64url, cut to 27 characters (160 bits). */
export function etagOf(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** True when `If-None-Match` is `*` or lists `etag` (weak or strong): the client's copy is current. */
export function isFresh(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
