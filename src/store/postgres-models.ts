import { createHash } from 'node:crypto';
import { CorruptModelError, NotFoundError } from './errors.ts';
import { LIFT_TIMEOUTS, type PgSql } from './postgres-connect.ts';
import { recordChange } from './postgres-replication.ts';
import type { ModelMeta } from './types.ts';

/** The model registry on PostgreSQL: functions of the pool, delegated to by PostgresStore. */

/** Model bytes travel in chunks of this size (see the models table in postgres-migrations.ts). */
const MODEL_CHUNK_BYTES = 4 << 20;

/**
 * One transaction: metadata with the checksum, the bytes chunk by chunk, pruning to `keep`, and a
 * 'model' change, so other servers load the new version.
 */
export async function saveModel(sql: PgSql, meta: Omit<ModelMeta, 'version'>, bytes: Uint8Array, keep: number): Promise<ModelMeta> {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new RangeError(`keep must be an integer >= 1 so the model just saved survives pruning (got ${keep})`);
  }
  const blob = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    const [{ version }] = await tx<Array<{ version: number }>>`
      INSERT INTO models (algorithm, params, metrics, trained_at, feedback_watermark, sha256, size)
      VALUES (${meta.algorithm}, ${JSON.stringify(meta.params)}::text::json, ${JSON.stringify(meta.metrics)}::text::json, ${meta.trainedAt},
        ${meta.feedbackWatermark}, ${sha256(blob)}, ${blob.byteLength})
      RETURNING version`;
    // One chunk in flight at a time: the driver sends bytea as hex text, twice the chunk's size.
    for (let seq = 0, at = 0; at < blob.byteLength || seq === 0; seq++, at += MODEL_CHUNK_BYTES) {
      await tx`INSERT INTO model_chunks (version, seq, bytes) VALUES (${version}, ${seq}, ${blob.subarray(at, at + MODEL_CHUNK_BYTES)})`;
    }
    await tx`DELETE FROM models WHERE version NOT IN (SELECT version FROM models ORDER BY version DESC LIMIT ${keep})`;
    await recordChange(tx, 'model', [String(version)], meta.trainedAt);
    return { version, ...meta };
  });
}

export async function latestModels(sql: PgSql): Promise<ModelMeta[]> {
  return sql<ModelMeta[]>`SELECT version, algorithm, params, metrics, trained_at AS "trainedAt",
    feedback_watermark AS "feedbackWatermark" FROM models ORDER BY version DESC`;
}

/** Reads metadata and chunks in one statement (one snapshot), then checks size and checksum. */
export async function loadModelBytes(sql: PgSql, version: number): Promise<Uint8Array> {
  const rows = await sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    return tx<Array<{ sha256: string; size: number; bytes: Buffer | null }>>`
      SELECT m.sha256, m.size, c.bytes FROM models m LEFT JOIN model_chunks c ON c.version = m.version
      WHERE m.version = ${version} ORDER BY c.seq`;
  });
  if (rows.length === 0) throw new NotFoundError('version', String(version), `model version ${version} does not exist; only the newest few are kept`);
  // A plain, exactly-sized copy: callers may hand `.buffer` to wasm, and must not see other bytes.
  const size = rows.reduce((sum, r) => sum + (r.bytes?.byteLength ?? 0), 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const r of rows) {
    if (!r.bytes) continue;
    out.set(r.bytes, at);
    at += r.bytes.byteLength;
  }
  if (size !== rows[0].size || sha256(out) !== rows[0].sha256) throw new CorruptModelError(version);
  return out;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
