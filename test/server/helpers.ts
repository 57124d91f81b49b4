import { createApp, type AppOptions } from '../../src/server/app.ts';
import { FakeEngine } from './fake-engine.ts';

/** The fixed clock tests run at: 2024-06-15T12:00:00.000Z. */
export const NOW = Date.UTC(2024, 5, 15, 12, 0, 0, 0);

export function setup(options: AppOptions = {}) {
  const engine = new FakeEngine();
  const app = createApp(engine, { now: () => NOW, ...options });

  /** Sends a request; `json` is serialised as the body, `body` is sent as is. */
  async function call(
    method: string,
    path: string,
    init: { json?: unknown; body?: BodyInit; key?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  }

  return { engine, app, call };
}

export function invalid(field: string, message: string) {
  return { error: { code: 'invalid_input', field, message } };
}

export const ID_257 = 'x'.repeat(257);
