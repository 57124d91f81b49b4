/**
 * Talking to the liverec API: keys, requests, errors and a cache of item records (for titles).
 *
 * Two keys, both kept in sessionStorage (this tab only, gone when it closes):
 * - the read key, taken from `?key=` when the page is opened that way (then removed from the
 *   address bar), sent with every GET;
 * - the API key, typed into the header's key field, needed by writes (retrain, test feedback)
 *   and accepted for reads as well.
 */
const READ_KEY = 'liverec.readKey';
const API_KEY = 'liverec.apiKey';

export const keys = {
  get read() {
    return sessionStorage.getItem(READ_KEY) ?? '';
  },
  get write() {
    return sessionStorage.getItem(API_KEY) ?? '';
  },
  setWrite(key) {
    if (key) sessionStorage.setItem(API_KEY, key);
    else sessionStorage.removeItem(API_KEY);
  },
};

/** Moves a `?key=` from the URL into sessionStorage, so it is neither bookmarked nor shared. */
export function adoptKeyFromUrl() {
  const url = new URL(location.href);
  const key = url.searchParams.get('key');
  if (key === null) return;
  if (key) sessionStorage.setItem(READ_KEY, key);
  url.searchParams.delete('key');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}

/** A failed call, carrying the API's `{ error: { code, message } }` when it sent one. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code ?? null;
  }

  /** The server has no such route (an older liverec): the panel says "not available". */
  get missingRoute() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

export class MissingKeyError extends Error {
  constructor() {
    super('Enter the API key (top right) first: this action changes data.');
    this.name = 'MissingKeyError';
  }
}

/** Encodes one path segment. */
export const seg = (value) => encodeURIComponent(String(value));

/**
 * Calls the API and resolves with its JSON. `write: true` sends the API key and refuses to
 * send the request without one; reads send the read key, else the API key, else nothing.
 */
export async function api(path, { method = 'GET', body, write = false } = {}) {
  const key = write ? keys.write : keys.read || keys.write;
  if (write && !key) throw new MissingKeyError();
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'The liverec server could not be reached.', 'network');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorMessage(response, data, write), data?.error?.code);
  return data;
}

function errorMessage(response, data, write) {
  if (response.status === 401) {
    return write
      ? 'The API key was not accepted. Check the key field at the top right.'
      : 'This server needs its read key: open the dashboard as /dashboard?key=<read key>.';
  }
  return data?.error?.message ?? `${response.status} ${response.statusText}`.trim();
}

/** Item records by id, fetched once per page; null when the item is unknown or unreadable. */
const items = new Map();

export function cachedItem(itemId) {
  if (!items.has(itemId)) items.set(itemId, api(`/v1/items/${seg(itemId)}`).catch(() => null));
  return items.get(itemId);
}

/** Titles for many items at once: a Map itemId → title (the id itself when unknown). */
export async function titlesOf(itemIds) {
  const unique = [...new Set(itemIds)];
  const records = await Promise.all(unique.map(cachedItem));
  return new Map(unique.map((id, i) => [id, records[i]?.title || `Item ${id}`]));
}
