import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { FakeEngine } from './fake-engine.ts';

const open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => {})));
});

async function start(engine = new FakeEngine()) {
  const server = await listen(createApp(engine), { port: 0, host: '127.0.0.1' });
  open.push(server);
  return { server, engine, url: `http://127.0.0.1:${server.port}` };
}

/** A POST whose body is written in two parts, `gapMs` apart, over a keep-alive agent. */
function slowPost(port: number, path: string, parts: [string, string], gapMs: number) {
  const agent = new http.Agent({ keepAlive: true });
  return new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.write(parts[0]);
    setTimeout(() => req.end(parts[1]), gapMs);
  });
}

describe('listen', () => {
  it('binds a real port and serves the app', async () => {
    const { server, url } = await start();
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('ok');
  });

  it('delivers the 413 to a client uploading 8 MiB', async () => {
    const { url, engine } = await start();
    const res = await fetch(`${url}/v1/items`, { method: 'POST', body: `[${' '.repeat(8 * 1024 * 1024)}]` });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
    expect(engine.calls).toStrictEqual([]);
  });

  it('close() lets an in-flight request finish, then refuses connections promptly', async () => {
    const { server, url } = await start();
    await fetch(`${url}/health`); // leaves an idle keep-alive socket behind
    const started = Date.now();
    const inFlight = slowPost(server.port, '/v1/session/recommend', ['{"items":', '[]}'], 300);
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.close().then(() => Date.now() - started);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.connection).toBe('close');
    expect(JSON.parse(res.body).recommendations).toHaveLength(10);
    // Well under the 5 s keep-alive timeout that a plain server.close() would wait for.
    expect(await closed).toBeLessThan(2_000);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const { server } = await start();
    await expect(listen(createApp(new FakeEngine()), { port: server.port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
  });
});
