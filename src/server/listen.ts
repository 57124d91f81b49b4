import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface Listening {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/**
 * How long an idle keep-alive connection stays open. Longer than clients' and load balancers' own
 * idle timeouts (undici 4 s, nginx 60 s, AWS ALB 60 s), so the client side always closes first: a
 * server closing a socket the client is just reusing is what surfaces as ECONNRESET.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Serves `app` over HTTP/1.1; resolves once the socket is bound, rejects if it cannot be (e.g. EADDRINUSE). */
export function listen(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  options: { port: number; host?: string },
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host }) as Server;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Node requires the headers timeout to exceed the keep-alive timeout.
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    const shutdown = gracefulClose(server);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ port, close: shutdown });
    });
  });
}

/**
 * server.close() stops accepting and waits for every socket to end, but a keep-alive socket
 * only ends on its idle timeout (KEEP_ALIVE_TIMEOUT_MS), even after its last response. So idle sockets are closed
 * at once, and each socket whose response finishes during shutdown is closed as soon as it is idle.
 */
function gracefulClose(server: Server): () => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const closeIdle = () => setImmediate(() => server.closeIdleConnections());

  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (closing) closeIdle();
    });
  });

  return () =>
    new Promise((resolve, reject) => {
      closing = true;
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeIdleConnections();
      // Responses not yet started tell the client not to reuse the socket.
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    });
}
