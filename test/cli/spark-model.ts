/**
 * Writes a model directory exactly as Spark MLlib's `ALSModel.save(path)` lays it out, for tests
 * of `liverec import-model`: userFactors/ and itemFactors/ each a directory of snappy Parquet part
 * files (`id` required int32, `features` an optional LIST of required float, Spark's schema) with
 * `_SUCCESS` and Hadoop's `.crc` files beside them, and metadata/part-00000 holding one JSON line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** Vectors by Spark id. */
export type Factors = Record<number, number[]>;

export interface SparkModelFixture {
  users: Factors;
  items: Factors;
  /** Rows per part file (Spark writes one file per partition). */
  rowsPerPart?: number;
  /** The metadata JSON line; an ALSModel's by default (rank only, no training params). */
  metadata?: Record<string, unknown>;
  /** `legacy`: the list layout Spark writes with spark.sql.parquet.writeLegacyFormat=true. */
  lists?: 'standard' | 'legacy';
}

type Schema = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>;

/** Spark's schemas for a DataFrame of (Int, Array[Float]): the Parquet spec's three-level LIST, or Spark's legacy one. */
const SPARK_SCHEMAS: Record<'standard' | 'legacy', Schema> = {
  standard: [
    { name: 'spark_schema', num_children: 2 },
    { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
  ],
  legacy: [
    { name: 'spark_schema', num_children: 2 },
    { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'bag', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'array', type: 'FLOAT', repetition_type: 'OPTIONAL' },
  ],
};

/** The metadata ALSModel.save writes: its own params only, and the rank. */
export function alsModelMetadata(rank: number): Record<string, unknown> {
  return {
    class: 'org.apache.spark.ml.recommendation.ALSModel',
    timestamp: 1_733_300_000_000,
    sparkVersion: '3.5.1',
    uid: 'ALS_5f3c9e0a1b2c',
    paramMap: { userCol: 'user', itemCol: 'item', coldStartStrategy: 'drop' },
    defaultParamMap: { predictionCol: 'prediction', blockSize: 4096, coldStartStrategy: 'nan', userCol: 'user', itemCol: 'item' },
    rank,
  };
}

export function writeSparkModel(dir: string, fixture: SparkModelFixture): string {
  const rank = Object.values(fixture.users)[0].length;
  const schema = SPARK_SCHEMAS[fixture.lists ?? 'standard'];
  writeFactors(join(dir, 'userFactors'), fixture.users, fixture.rowsPerPart ?? 2, schema);
  writeFactors(join(dir, 'itemFactors'), fixture.items, fixture.rowsPerPart ?? 2, schema);
  const metadata = join(dir, 'metadata');
  mkdirSync(metadata, { recursive: true });
  writeFileSync(join(metadata, 'part-00000'), JSON.stringify(fixture.metadata ?? alsModelMetadata(rank)) + '\n');
  writeFileSync(join(metadata, '_SUCCESS'), '');
  return dir;
}

/** One side: part files of `rowsPerPart` rows each, named as Spark names them (an empty side: one file of no rows, as Spark writes). */
export function writeFactors(dir: string, factors: Factors, rowsPerPart: number, schema = SPARK_SCHEMAS.standard): void {
  mkdirSync(dir, { recursive: true });
  const rows = Object.entries(factors).map(([id, vector]) => ({ id: Number(id), vector }));
  for (let part = 0; part === 0 || part * rowsPerPart < rows.length; part++) {
    const slice = rows.slice(part * rowsPerPart, (part + 1) * rowsPerPart);
    const name = `part-${String(part).padStart(5, '0')}-8d2b0c1e-3f4a-4b5c-9d6e-7f8091a2b3c4-c000.snappy.parquet`;
    writeFileSync(join(dir, name), new Uint8Array(parquetPart(slice, schema)));
    writeFileSync(join(dir, `.${name}.crc`), 'crc');
  }
  writeFileSync(join(dir, '_SUCCESS'), '');
}

function parquetPart(rows: Array<{ id: number; vector: number[] }>, schema: Schema): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: 'id', data: rows.map((r) => r.id) },
      { name: 'features', data: rows.map((r) => r.vector) },
    ],
    schema,
    codec: 'SNAPPY',
  });
}
