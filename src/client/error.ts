/**
 * A non-2xx answer from a liverec server, with the fields of its error body
 * `{ error: { code, message, field, requestId? } }`. `field` names the offending input in the
 * server's path notation (`n`, `userId`, `[17].type`), or is null.
 */
export class LiverecError extends Error {
  readonly status: number;
  /** `invalid_input`, `unauthorized`, `not_found`, `payload_too_large`, `rate_limited`, `unavailable`, `internal`; `http_error` when the body was not liverec's (e.g. a proxy's 502 page). */
  readonly code: string;
  readonly field: string | null;
  /** The server's request id (the body's on 500s, else the X-Request-Id header): quote it when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(status: number, body: { code: string; message: string; field: string | null; requestId?: string }) {
    super(body.message);
    this.name = 'LiverecError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.requestId = body.requestId;
  }
}

/** The error a response stands for; `text` is its body, which need not be JSON. */
export function errorFrom(res: Response, text: string): LiverecError {
  const requestId = res.headers.get('x-request-id') ?? undefined;
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    // Not JSON: a proxy or load balancer answered.
  }
  if (isErrorBody(error)) return new LiverecError(res.status, { requestId, ...error });
  const statusText = res.statusText ? ` ${res.statusText}` : '';
  return new LiverecError(res.status, { code: 'http_error', message: `HTTP ${res.status}${statusText}`, field: null, requestId });
}

function isErrorBody(value: unknown): value is { code: string; message: string; field: string | null; requestId?: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message, field } = value as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string' && (typeof field === 'string' || field === null);
}
