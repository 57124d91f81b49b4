/**
 * A private PostgreSQL: `initdb` into a fresh temporary directory and one `postgres` process on a
 * free loopback port (its unix socket in that directory too). Plain Node, no vitest: the tests
 * reach it through ./postgres.ts (which adds the run's shared server), the benchmarks and drills
 * (bench/) import it directly.
 *
 * PostgreSQL refuses to run as root: as root (CI, this machine) the directory is handed to the
 * `postgres` user and initdb/postgres run with its uid and gid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

export interface Cluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Fast shutdown of the server, keeping its data: the database is unreachable until `resume`. */
  pause(): Promise<void>;
  /** Starts the server again on the same port and data. */
  resume(): Promise<void>;
  /** Fast shutdown of the process this cluster started, then removes its directory. */
  stop(): Promise<void>;
}

/** The directory holding initdb and postgres: $LIVEREC_PG_BIN, the newest /usr/lib/postgresql/N/bin, or PATH. */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.LIVEREC_PG_BIN) candidates.push(process.env.LIVEREC_PG_BIN);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(root, v, 'bin')));
  }
  candidates.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres')));
  if (!found) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) were not found in /usr/lib/postgresql/*/bin, $LIVEREC_PG_BIN or PATH; ' +
        'the store contract suite needs a real server: install it with `apt-get install -y postgresql`',
    );
  }
  return found;
}

/**
 * Initialises and starts a cluster; rejects (with the server's log) if it does not come up.
 * Tests run it with fsync off; `durable` keeps PostgreSQL's defaults (for benchmarks).
 */
export async function startCluster(options: { durable?: boolean } = {}): Promise<Cluster> {
  const settings = options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liverec-pg-'));
  const owner = runAs();
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, 'data');
  try {
    execFileSync(path.join(bin, 'initdb'), ['--no-sync', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '-D', data], {
      cwd: dir, stdio: 'pipe', ...owner,
    });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr || (err as Error).message}`);
  }

  // The port is free when asked; another process could take it before postgres binds, so retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let server = await launch(bin, dir, port, owner, settings);
    if (server) {
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      return {
        url, port, dir,
        pause: async () => {
          await server?.stop();
          server = null;
        },
        resume: async () => {
          if (server) return;
          server = await launch(bin, dir, port, owner, settings);
          if (!server) throw new Error(`postgres did not restart on 127.0.0.1:${port}; its log:\n${readLog(dir)}`);
        },
        stop: async () => {
          await server?.stop();
          server = null;
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (attempt === 3) {
      const text = readLog(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres did not start on 127.0.0.1 (3 attempts); its log:\n${text}`);
    }
  }
}

/** Starts postgres on `dir`/data; null (after stopping it) if it does not answer. */
async function launch(bin: string, dir: string, port: number, owner: { uid: number; gid: number } | undefined, settings: string[]) {
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(path.join(bin, 'postgres'), [
    '-D', path.join(dir, 'data'), '-p', String(port), '-k', dir, '-h', '127.0.0.1',
    ...settings, '-c', 'max_connections=200',
  ], { cwd: dir, stdio: ['ignore', log, log], ...owner });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server = { stop: () => stop(child, exited) };
  if (await waitReady(`postgres://postgres@127.0.0.1:${port}/postgres`, exited)) return server;
  await server.stop();
  return null;
}

function readLog(dir: string): string {
  const file = path.join(dir, 'server.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

let created = 0;

/** Creates a uniquely named database on the server at `baseUrl` and returns its URL. */
export async function createDatabase(baseUrl: string): Promise<string> {
  const name = `liverec_${process.pid}_${++created}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    // The name is ours (letters, digits, underscores): no quoting issue. FILE_COPY (PostgreSQL 15+)
    // skips WAL-logging the template; older servers copy files anyway and reject the option.
    await admin.unsafe(`CREATE DATABASE ${name} STRATEGY = FILE_COPY`).catch((err: { code?: string }) => {
      if (err.code !== '42601') throw err;
      return admin.unsafe(`CREATE DATABASE ${name}`);
    });
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Unprivileged ids to run the server as when we are root; undefined otherwise. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (it refuses root): install the `postgresql` package');
  }
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until a query answers (true), the process exits or 30 s pass (false). */
async function waitReady(url: string, exited: Promise<void>): Promise<boolean> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + 30_000;
  while (!gone && Date.now() < deadline) {
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await probe.end({ timeout: 0 });
    }
  }
  return false;
}

/** SIGINT is PostgreSQL's fast shutdown; SIGQUIT if it has not exited within 10 s. Only our child. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
