/**
 * Kill drill: does a 2xx from POST /v1/feedback really mean "stored", even when the server is
 * killed with SIGKILL in the middle of a write burst?
 *
 *   npm run drill:kill [-- --rounds 20 --concurrency 8 --min-delay 200 --max-delay 1500 --train-every 2 --seed 1 --keep]
 *
 * One temporary database, seeded with a small catalog and feedback and trained once (so there is
 * a model to reload). Then, per round:
 *   1. start `node bin/liverec.mjs serve --db DB --port 0` (after the first round this is the
 *      restart after a SIGKILL) and check GET /health and GET /v1/model: model status "ready",
 *      the newest stored model version, no warnings;
 *   2. `concurrency` clients POST feedback with unique (userId, itemId, timestamp) triples —
 *      mostly single events (the live path: store + fold-in + re-rank), some batches of 2–20
 *      (the import path) — recording every event sent and every event answered with a 2xx;
 *      Every `--train-every` (2) rounds a background retrain (POST /v1/model/train) is also
 *      started in the round's first 300 ms; alternately the kill comes at the usual moment (mostly
 *      mid-fit) or the random delay starts once the new model serves (the restart must load it);
 *   3. after a random 200–1500 ms, SIGKILL the server (clients stop starting new requests at that
 *      instant, so up to `concurrency` requests are in flight when it dies);
 *   4. open the database read-only in this process (SqliteStore, then raw better-sqlite3) and check:
 *      every acknowledged event (of every round so far) is stored; nothing is stored that was never
 *      sent; no event is stored twice; types match what was sent; PRAGMA integrity_check and
 *      foreign_key_check pass.
 * After the last round the server is restarted once more, checked, and stopped with SIGTERM
 * (graceful shutdown must exit 0).
 *
 * Writes bench/results/kill-drill.json. Exit code 1 when an acknowledged event was lost, the
 * database failed an integrity check, or a consistency check (phantom rows, duplicates, model not
 * loading after a restart, server dying on its own) failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { arg, distribution, writeResult } from '../lib.ts';
import { between, getJson, intArg, liverec, requireWasm, rng, startServer, stopServer, type ServerChild } from './child.ts';

const ROUNDS = intArg(arg('rounds', '20'), 'rounds', 1);
const CONCURRENCY = intArg(arg('concurrency', '8'), 'concurrency', 1);
const MIN_DELAY = intArg(arg('min-delay', '200'), 'min-delay', 0);
const MAX_DELAY = intArg(arg('max-delay', '1500'), 'max-delay', MIN_DELAY);
const SEED = intArg(arg('seed', String(Date.now() % 1_000_000)), 'seed', 0);
const KEEP = process.argv.includes('--keep');
/** Every this many rounds, POST /v1/model/train at a random moment before the kill (0 = never). */
const TRAIN_EVERY = intArg(arg('train-every', '2'), 'train-every', 0);

const SEED_ITEMS = 30;
const SEED_USERS = 20;
const DRILL_USERS = 400;
const TYPES = ['view', 'click', 'cart', 'purchase', 'like'] as const;
/** Share of requests that are batches (the rest are single live events). */
const BATCH_SHARE = 0.3;
/** Share of events that name an item not in the catalog (created by the same transaction). */
const NEW_ITEM_SHARE = 0.05;

type EventType = (typeof TYPES)[number];
interface SentEvent {
  round: number;
  type: EventType;
  acked: boolean;
}
interface DrillEvent {
  userId: string;
  itemId: string;
  type: EventType;
  timestamp: number;
}

const key = (userId: string, itemId: string, timestamp: number) => `${userId}\u0000${itemId}\u0000${timestamp}`;

interface RoundFigures {
  round: number;
  /** Milliseconds from spawn to "listening" (rounds ≥ 2: the restart after the previous kill). */
  startMs: number;
  modelVersion: number | null;
  modelStatus: string;
  killAfterMs: number;
  /** Whether this round started a retrain, and whether the kill came while it ran or after it served. */
  train: 'none' | 'during' | 'after';
  /** When the retrain was requested (ms into the load), or null. */
  trainAtMs: number | null;
  /** 'after' rounds: when the new model was serving (ms into the load). */
  newModelAtMs: number | null;
  requests: number;
  sent: number;
  acknowledged: number;
  /** This round's events found in the database. */
  stored: number;
  /** Acknowledged events (of any round so far) missing from the database. Must be 0. */
  lost: number;
  /** Sent, not acknowledged (in flight at the kill), yet stored: committed just before the kill. */
  committedUnacknowledged: number;
  /** Requests that failed because of the kill (connection reset/refused). */
  cutOff: number;
  /** Non-2xx answers, and transport errors before the kill. Should be 0. */
  errors: number;
  integrity: string;
  verifyMs: number;
}

interface Totals {
  phantom: number;
  duplicates: number;
  typeMismatches: number;
  foreignKeyViolations: number;
  modelProblems: string[];
  serverProblems: string[];
  errorSamples: string[];
}

const random = rng(SEED);
const dir = mkdtempSync(join(tmpdir(), 'liverec-kill-'));
const db = join(dir, 'kill.db');
const sent = new Map<string, SentEvent>();
const baseline = new Set<string>();
const totals: Totals = { phantom: 0, duplicates: 0, typeMismatches: 0, foreignKeyViolations: 0, modelProblems: [], serverProblems: [], errorSamples: [] };
/** Every drill event gets its own millisecond, so (user, item, timestamp) is unique across the run. */
const baseTimestamp = Date.now() - 12 * 3_600_000;
let sequence = 0;
let newItems = 0;
let trainsStarted = 0;

requireWasm();
process.on('exit', () => {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
});

console.log(`kill drill: ${ROUNDS} rounds, concurrency ${CONCURRENCY}, kill after ${MIN_DELAY}–${MAX_DELAY} ms, seed ${SEED}`);
console.log(`database ${db}${KEEP ? ' (kept)' : ''}`);

seed();
const perRound: RoundFigures[] = [];
let expectedVersion = latestVersion();
for (let round = 1; round <= ROUNDS; round++) {
  perRound.push(await runRound(round));
  const r = perRound.at(-1)!;
  console.log(
    `round ${String(round).padStart(2)}: start ${r.startMs.toFixed(0).padStart(5)} ms, model v${r.modelVersion} ${r.modelStatus}, ` +
      `kill @${String(r.killAfterMs).padStart(5)} ms ${trainNote(r).padEnd(27)}| sent ${String(r.sent).padStart(5)}  acked ${String(r.acknowledged).padStart(5)}  ` +
      `stored ${String(r.stored).padStart(5)}  lost ${r.lost}  committed-unacked ${r.committedUnacknowledged}  ` +
      `cut-off reqs ${r.cutOff}  errors ${r.errors}  integrity ${r.integrity}`,
  );
}

// The restart after the last kill, then a graceful stop.
const final = await startServer(['serve', '--db', db, '--port', '0']);
const finalCheck = await checkModel(final, 'final restart');
const stopped = await stopServer(final);
if (!stopped.graceful) totals.serverProblems.push(`final SIGTERM: exit ${stopped.code ?? stopped.signal}, expected 0`);
const finalStderr = final.stderr().replace(/^SIGTERM: shutting down…\n?/m, '').trim();
if (finalStderr) totals.serverProblems.push(`final server stderr: ${finalStderr.slice(0, 500)}`);
const finalVerify = verify(ROUNDS + 1);

const sum = (f: (r: RoundFigures) => number) => perRound.reduce((s, r) => s + f(r), 0);
const storedTotal = [...sent.values()].length - countMissing();
const results = {
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  seed: SEED,
  requests: sum((r) => r.requests),
  sent: sent.size,
  acknowledged: sum((r) => r.acknowledged),
  stored: storedTotal,
  lost: finalVerify.lost,
  committedUnacknowledged: sum((r) => r.committedUnacknowledged),
  cutOffRequests: sum((r) => r.cutOff),
  errors: sum((r) => r.errors),
  phantom: totals.phantom,
  duplicates: totals.duplicates,
  typeMismatches: totals.typeMismatches,
  foreignKeyViolations: totals.foreignKeyViolations,
  itemsCreatedByFeedback: newItems,
  retrainsStarted: trainsStarted,
  killsWhileRetraining: perRound.filter((r) => r.train === 'during').length,
  killsAfterNewModel: perRound.filter((r) => r.newModelAtMs !== null).length,
  integrity: perRound.every((r) => r.integrity === 'ok') && finalVerify.integrity === 'ok' ? 'ok' : 'FAILED',
  finalModel: finalCheck,
  gracefulShutdown: stopped.graceful,
  restartMs: distribution(perRound.slice(1).map((r) => r.startMs).concat(final.startMs)),
  firstStartMs: perRound[0].startMs,
  verifyMs: distribution(perRound.map((r) => r.verifyMs)),
  modelProblems: totals.modelProblems,
  serverProblems: totals.serverProblems,
  errorSamples: totals.errorSamples.slice(0, 10),
  perRound,
};

console.log(
  `\ntotal: ${results.requests} requests, sent ${results.sent}, acknowledged ${results.acknowledged}, stored ${results.stored}, ` +
    `lost ${results.lost}, committed-unacknowledged ${results.committedUnacknowledged}, phantom ${results.phantom}, ` +
    `duplicates ${results.duplicates}, integrity ${results.integrity}`,
);
console.log(
  `restart: median ${results.restartMs.p50.toFixed(0)} ms, max ${results.restartMs.max.toFixed(0)} ms; ` +
    `final model v${finalCheck.version} ${finalCheck.status}; graceful shutdown ${stopped.graceful ? 'ok' : 'FAILED'}`,
);
for (const problem of [...totals.modelProblems, ...totals.serverProblems]) console.log(`PROBLEM: ${problem}`);
for (const sample of totals.errorSamples.slice(0, 5)) console.log(`error sample: ${sample}`);

writeResult('kill-drill', {
  method:
    `One SQLite database (WAL, synchronous=FULL) seeded with ${SEED_ITEMS} items and ${baseline.size} events and trained once ` +
    `(implicit ALS). ${ROUNDS} rounds of: start \`node bin/liverec.mjs serve --db DB --port 0\` (the restart after the previous kill), ` +
    `check /health and /v1/model (status ready, newest stored version, no warnings), ${TRAIN_EVERY > 0 ? `every ${TRAIN_EVERY}. round POST /v1/model/train at a random moment in the first 300 ms (alternately: kill at the usual random moment, mostly mid-fit; or start the random delay once the new model serves), ` : ''}${CONCURRENCY} concurrent clients POST /v1/feedback ` +
    `(${Math.round((1 - BATCH_SHARE) * 100)}% single events, ${Math.round(BATCH_SHARE * 100)}% batches of 2–20; ` +
    `${Math.round(NEW_ITEM_SHARE * 100)}% of events name a new item) with unique (userId, itemId, timestamp) triples, ` +
    `SIGKILL after a uniformly random ${MIN_DELAY}–${MAX_DELAY} ms, then open the database read-only in-process and compare it with ` +
    'every event sent and every event acknowledged (2xx status line received) so far, plus PRAGMA integrity_check and foreign_key_check. ' +
    'A last restart is checked and stopped with SIGTERM. lost = acknowledged but not stored (must be 0); committedUnacknowledged = ' +
    'in flight at the kill yet stored (allowed); phantom = stored but never sent; duplicates = one sent event stored more than once.',
  results,
});

const failed =
  results.lost > 0 ||
  results.integrity !== 'ok' ||
  results.phantom > 0 ||
  results.duplicates > 0 ||
  results.typeMismatches > 0 ||
  results.foreignKeyViolations > 0 ||
  totals.modelProblems.length > 0 ||
  totals.serverProblems.some((p) => p.includes('died') || p.includes('SIGTERM'));
console.log(failed ? 'KILL DRILL FAILED' : 'kill drill passed');
process.exitCode = failed ? 1 : 0;

// ---------------------------------------------------------------------------------------------

/** A small catalog with categories, a few users' history, and one trained model. */
function seed(): void {
  const items = Array.from({ length: SEED_ITEMS }, (_, i) => JSON.stringify({ itemId: `item${i}`, title: `Item ${i}`, categories: [`c${i % 5}`] }));
  writeFileSync(join(dir, 'items.jsonl'), items.join('\n') + '\n');
  const rows = ['userId,itemId,type,timestamp'];
  const start = Date.now() - 30 * 86_400_000;
  for (let u = 0; u < SEED_USERS; u++) {
    for (let e = 0; e < 12; e++) rows.push(`seed${u},item${between(random, 0, SEED_ITEMS - 1)},${TYPES[between(random, 0, TYPES.length - 1)]},${start + u * 1000 + e}`);
  }
  writeFileSync(join(dir, 'feedback.csv'), rows.join('\n') + '\n');
  liverec('import', '--db', db, '--items', join(dir, 'items.jsonl'), '--feedback', join(dir, 'feedback.csv'));
  liverec('train', '--db', db);
  const store = SqliteStore.open(db, { readonly: true });
  try {
    store.forEachFeedback((row) => void baseline.add(key(row.userId, row.itemId, row.timestamp)));
  } finally {
    store.close();
  }
  console.log(`seeded ${SEED_ITEMS} items, ${baseline.size} events, model v${latestVersion()}`);
}

function latestVersion(): number | null {
  const raw = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (raw.prepare('SELECT max(version) AS v FROM models').get() as { v: number | null }).v;
  } finally {
    raw.close();
  }
}

function nextEvent(round: number): DrillEvent {
  const seq = sequence++;
  const fresh = random() < NEW_ITEM_SHARE;
  if (fresh) newItems++;
  return {
    userId: `kd-u${between(random, 0, DRILL_USERS - 1)}`,
    itemId: fresh ? `kd-i${round}-${seq}` : `item${between(random, 0, SEED_ITEMS - 1)}`,
    type: TYPES[between(random, 0, TYPES.length - 1)],
    timestamp: baseTimestamp + seq,
  };
}

/** /health and /v1/model after a (re)start: a usable model, the newest one stored, no warnings. */
async function checkModel(server: ServerChild, label: string): Promise<{ version: number | null; status: string }> {
  try {
    const health = await getJson<{ status: string; model: { version: number | null; status: string }; warnings: string[] }>(`${server.url}/health`);
    const model = await getJson<{ version: number | null; status: string }>(`${server.url}/v1/model`);
    if (health.status !== 'ok') totals.modelProblems.push(`${label}: /health status ${health.status}`);
    if (health.warnings.length > 0) totals.modelProblems.push(`${label}: /health warnings ${JSON.stringify(health.warnings)}`);
    if (model.status !== 'ready') totals.modelProblems.push(`${label}: /v1/model status ${model.status}`);
    if (model.version === null || model.version !== expectedVersion) {
      totals.modelProblems.push(`${label}: serving model v${model.version}, newest stored is v${expectedVersion}`);
    }
    return { version: model.version, status: model.status };
  } catch (err) {
    totals.modelProblems.push(`${label}: ${(err as Error).message}`);
    return { version: null, status: 'unreachable' };
  }
}

async function runRound(round: number): Promise<RoundFigures> {
  const server = await startServer(['serve', '--db', db, '--port', '0']);
  const model = await checkModel(server, `round ${round} start`);
  const figures: RoundFigures = {
    round, startMs: server.startMs, modelVersion: model.version, modelStatus: model.status, killAfterMs: 0, train: 'none', trainAtMs: null, newModelAtMs: null,
    requests: 0, sent: 0, acknowledged: 0, stored: 0, lost: 0, committedUnacknowledged: 0, cutOff: 0, errors: 0,
    integrity: '', verifyMs: 0,
  };
  let killed = false;

  const client = async () => {
    while (!killed) {
      const batch = random() < BATCH_SHARE;
      const events = Array.from({ length: batch ? between(random, 2, 20) : 1 }, () => nextEvent(round));
      for (const e of events) sent.set(key(e.userId, e.itemId, e.timestamp), { round, type: e.type, acked: false });
      figures.sent += events.length;
      figures.requests++;
      const path = batch ? '/v1/feedback' : `/v1/feedback?n=${between(random, 1, 20)}`;
      try {
        const res = await fetch(server.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch ? events : events[0]),
          signal: AbortSignal.timeout(30_000),
        });
        if (res.ok) {
          // The status line is the acknowledgement: the server answers only after the commit.
          for (const e of events) sent.get(key(e.userId, e.itemId, e.timestamp))!.acked = true;
          figures.acknowledged += events.length;
          const body = (await res.json().catch(() => null)) as { accepted?: number; duplicates?: number } | null;
          if (body && (body.accepted !== events.length || body.duplicates !== 0)) {
            figures.errors++;
            totals.errorSamples.push(`round ${round}: ${events.length} new events answered ${JSON.stringify(body).slice(0, 200)}`);
          }
        } else {
          figures.errors++;
          totals.errorSamples.push(`round ${round}: ${res.status} ${(await res.text().catch(() => '')).slice(0, 300)}`);
        }
      } catch (err) {
        if (killed) figures.cutOff++;
        else {
          figures.errors++;
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          totals.errorSamples.push(`round ${round}: before the kill: ${(err as Error).message} ${cause?.code ?? cause?.message ?? ''}`);
        }
      }
    }
  };

  const loadStart = performance.now();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const clients = Array.from({ length: CONCURRENCY }, client);
  const delay = between(random, MIN_DELAY, MAX_DELAY);
  // Some rounds also start a background retrain early on. In 'during' rounds the kill comes at the
  // usual random moment (under this write load a retrain takes a few seconds, so it usually lands
  // mid-fit); in 'after' rounds the random delay starts once the new model serves, so the next
  // restart must load that new version.
  let training: Promise<void> = Promise.resolve();
  if (TRAIN_EVERY > 0 && round % TRAIN_EVERY === 0) {
    figures.train = (round / TRAIN_EVERY) % 2 === 1 ? 'during' : 'after';
    figures.trainAtMs = between(random, 0, Math.min(300, delay));
    training = sleep(figures.trainAtMs).then(async () => {
      try {
        const res = await fetch(`${server.url}/v1/model/train`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
        if (res.status !== 202) {
          figures.errors++;
          totals.errorSamples.push(`round ${round}: POST /v1/model/train → ${res.status} ${(await res.text()).slice(0, 200)}`);
        } else trainsStarted++;
      } catch {
        // Cut off by the kill.
      }
    });
  }
  if (figures.train === 'after') {
    await training;
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline && !server.hasExited()) {
      const now = await getJson<{ version: number | null; status: string }>(`${server.url}/v1/model`).catch(() => null);
      if (now && now.version !== model.version && now.status === 'ready') {
        figures.newModelAtMs = Math.round(performance.now() - loadStart);
        break;
      }
      await sleep(50);
    }
    if (figures.newModelAtMs === null) totals.modelProblems.push(`round ${round}: the retrain did not finish within 60 s`);
  }
  await sleep(figures.train === 'after' ? delay : delay - (performance.now() - loadStart));
  figures.killAfterMs = Math.round(performance.now() - loadStart);
  if (server.hasExited()) totals.serverProblems.push(`round ${round}: server died on its own (${JSON.stringify(await server.exited)}): ${server.stderr()}`);
  killed = true;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {
    // Already gone (reported above).
  }
  const exit = await server.exited;
  if (exit.signal !== 'SIGKILL') totals.serverProblems.push(`round ${round}: server ended with ${exit.code ?? exit.signal}, not SIGKILL`);
  await Promise.all([...clients, training]);
  if (server.stderr().trim()) totals.serverProblems.push(`round ${round}: server stderr: ${server.stderr().trim().slice(0, 500)}`);

  const check = verify(round);
  return { ...figures, ...check.round };
}

function trainNote(r: RoundFigures): string {
  if (r.train === 'none') return '';
  if (r.train === 'during') return `(retrain @${r.trainAtMs})`;
  return `(retrain @${r.trainAtMs}, new @${r.newModelAtMs})`;
}

function countMissing(): number {
  let missing = 0;
  for (const e of sent.values()) if (!('found' in e)) missing++;
  return missing;
}

/**
 * Reads the whole database read-only and compares it with what was sent and acknowledged.
 * Marks found events (`found`) so totals can be computed at the end.
 */
function verify(round: number): { lost: number; integrity: string; round: Pick<RoundFigures, 'stored' | 'lost' | 'committedUnacknowledged' | 'integrity' | 'verifyMs'> } {
  const started = performance.now();
  for (const e of sent.values()) delete (e as { found?: boolean }).found;
  // Through the store's own read-only path first: it must open a database left by a SIGKILL.
  const store = SqliteStore.open(db, { readonly: true });
  let phantom = 0;
  let duplicates = 0;
  let typeMismatches = 0;
  try {
    store.forEachFeedback((row) => {
      const k = key(row.userId, row.itemId, row.timestamp);
      const e = sent.get(k) as (SentEvent & { found?: boolean }) | undefined;
      if (!e) {
        if (!baseline.has(k)) phantom++;
        return;
      }
      if (e.found) duplicates++;
      e.found = true;
      if (row.type !== e.type) typeMismatches++;
    });
  } finally {
    store.close();
  }
  const raw = new Database(db, { readonly: true, fileMustExist: true });
  let integrity: string;
  let foreignKeys: number;
  try {
    const rows = raw.pragma('integrity_check') as Array<{ integrity_check: string }>;
    integrity = rows.map((r) => r.integrity_check).join('; ');
    foreignKeys = (raw.pragma('foreign_key_check') as unknown[]).length;
    expectedVersion = (raw.prepare('SELECT max(version) AS v FROM models').get() as { v: number | null }).v;
  } finally {
    raw.close();
  }

  let lost = 0;
  let stored = 0;
  let committedUnacknowledged = 0;
  for (const e of sent.values() as Iterable<SentEvent & { found?: boolean }>) {
    if (e.acked && !e.found) lost++;
    if (e.round === round && e.found) {
      stored++;
      if (!e.acked) committedUnacknowledged++;
    }
  }
  // Cumulative counts are re-derived on every pass; keep the worst seen.
  totals.phantom = Math.max(totals.phantom, phantom);
  totals.duplicates = Math.max(totals.duplicates, duplicates);
  totals.typeMismatches = Math.max(totals.typeMismatches, typeMismatches);
  totals.foreignKeyViolations = Math.max(totals.foreignKeyViolations, foreignKeys);
  if (integrity !== 'ok') totals.serverProblems.push(`round ${round}: integrity_check: ${integrity.slice(0, 500)}`);
  return { lost, integrity, round: { stored, lost, committedUnacknowledged, integrity, verifyMs: performance.now() - started } };
}
