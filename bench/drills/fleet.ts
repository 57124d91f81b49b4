/**
 * A fleet of `liverec serve` children sharing one database, one per slot. Each slot keeps its
 * loopback port across restarts, so a server that comes back after a SIGKILL answers at the
 * address its clients already use (as it would behind a load balancer). Only processes started
 * here are ever signalled, each by its own PID.
 */
import { startServer, stopServer, type ServerChild } from './child.ts';

export interface Slot {
  readonly index: number;
  /** Fixed after the first start (which asks for any free port). */
  port: number;
  /** The running server; null while it is down (killed, not yet restarted). */
  server: ServerChild | null;
  /** How many times it was started, the first start included. */
  starts: number;
}

export interface StopOutcome {
  index: number;
  graceful: boolean;
  exit: string;
  stderr: string;
}

export class Fleet {
  /** Servers this fleet killed: a request cut off by one of these is expected to fail. */
  private readonly killed = new WeakSet<ServerChild>();

  private constructor(
    readonly slots: Slot[],
    private readonly serveArgs: string[],
  ) {}

  /** Starts `count` servers with `liverec serve <serveArgs> --port 0`, all at once. */
  static async start(count: number, serveArgs: string[]): Promise<Fleet> {
    const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, port: 0, server: null, starts: 0 }));
    const fleet = new Fleet(slots, serveArgs);
    await Promise.all(slots.map((slot) => fleet.launch(slot)));
    return fleet;
  }

  /** Slots whose server is up. */
  live(): Slot[] {
    return this.slots.filter((slot) => slot.server !== null);
  }

  /** Whether `server` was ended by this fleet's SIGKILL (so a failed request to it is expected). */
  wasKilled(server: ServerChild): boolean {
    return this.killed.has(server);
  }

  /** Servers that exited without being killed or stopped here. */
  diedOnTheirOwn(): Array<{ index: number; stderr: string }> {
    return this.slots.filter((slot) => slot.server?.hasExited()).map((slot) => ({ index: slot.index, stderr: slot.server!.stderr().slice(0, 500) }));
  }

  /**
   * SIGKILL the slot's server. The slot is marked down first, in the same turn, so no new
   * request is sent to it; requests already in flight are cut off.
   */
  async kill(slot: Slot): Promise<{ signal: string | null; stderr: string }> {
    const server = slot.server;
    if (!server) throw new Error(`slot ${slot.index} is already down`);
    slot.server = null;
    this.killed.add(server);
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // Already gone: reported by the exit status below.
    }
    const exit = await server.exited;
    return { signal: exit.signal, stderr: server.stderr().trim() };
  }

  /** Starts the slot's server again on its port; resolves with the time to "listening". */
  async restart(slot: Slot): Promise<number> {
    if (slot.server) throw new Error(`slot ${slot.index} is still running`);
    return (await this.launch(slot)).startMs;
  }

  /** SIGTERM to every live server (graceful shutdown must exit 0), all at once. */
  async stopAll(): Promise<StopOutcome[]> {
    return Promise.all(
      this.live().map(async (slot) => {
        const server = slot.server!;
        slot.server = null;
        const stopped = await stopServer(server);
        // The line `serve` prints on a signal is not a problem report.
        const stderr = server.stderr().replace(/^SIG(TERM|INT): shutting down…\n?/m, '').trim();
        return { index: slot.index, graceful: stopped.graceful, exit: String(stopped.code ?? stopped.signal), stderr };
      }),
    );
  }

  private async launch(slot: Slot): Promise<ServerChild> {
    const server = await startServer([...this.serveArgs, '--port', String(slot.port)]);
    slot.port = Number(new URL(server.url).port);
    slot.server = server;
    slot.starts++;
    return server;
  }
}
