/**
 * Reads the directory Spark MLlib's `ALSModel.save(path)` writes:
 *   path/userFactors/, path/itemFactors/  Parquet part files (`part-*.parquet`, any codec), columns
 *                                          `id` (int) and `features` (array<float>), beside `_SUCCESS`
 *   path/metadata/                         one JSON line: class, uid, paramMap, defaultParamMap, rank
 * Files whose names start with `_` or `.` (`_SUCCESS`, `.crc` checksums) are Hadoop's bookkeeping
 * and are skipped. Spark's integer ids become liverec's string ids as `String(id)`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataFormatError } from '../eval/readers.ts';

/** One side of the model: ids in file order and their vectors, row r at r·rank. */
export interface SparkFactors {
  ids: string[];
  factors: Float32Array;
}

/** What Spark's metadata says of the training, where it says it (ALSModel's own metadata records only `rank`). */
export interface SparkParams {
  rank?: number;
  implicitPrefs?: boolean;
  regParam?: number;
  alpha?: number;
  maxIter?: number;
  nonnegative?: boolean;
}

export interface SparkAlsModel {
  rank: number;
  users: SparkFactors;
  items: SparkFactors;
  params: SparkParams;
}

export async function readSparkAls(path: string): Promise<SparkAlsModel> {
  if (!isDirectory(path)) throw new DataFormatError(path, undefined, 'no such directory (expected the directory ALSModel.save wrote)');
  const params = readMetadata(join(path, 'metadata'));
  const users = await readFactors(join(path, 'userFactors'));
  const items = await readFactors(join(path, 'itemFactors'));
  if (users.rank !== items.rank) {
    throw new DataFormatError(path, undefined, `mismatched ranks: userFactors has vectors of ${users.rank} values, itemFactors of ${items.rank}`);
  }
  if (params.rank !== undefined && params.rank !== users.rank) {
    throw new DataFormatError(path, undefined, `mismatched ranks: metadata says rank ${params.rank}, the factors have ${users.rank} values`);
  }
  return { rank: users.rank, users: users.side, items: items.side, params };
}

/** The metadata's params (paramMap over defaultParamMap); none when the directory is absent. */
function readMetadata(dir: string): SparkParams {
  if (!existsSync(dir)) return {};
  const [first] = partFiles(dir, (name) => name.startsWith('part-'));
  const line = first ? readFileSync(first, 'utf8').split('\n').find((l) => l.trim() !== '') : undefined;
  if (!line) throw new DataFormatError(dir, undefined, 'no metadata line (expected a part file holding one JSON line)');
  let json: { rank?: unknown; paramMap?: Record<string, unknown>; defaultParamMap?: Record<string, unknown> };
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new DataFormatError(first, 1, `metadata is not JSON (${(error as Error).message})`);
  }
  const param = (key: string) => json.paramMap?.[key] ?? json.defaultParamMap?.[key];
  const typed = <T>(value: unknown, type: string): T | undefined => (typeof value === type ? (value as T) : undefined);
  return {
    rank: typed<number>(json.rank ?? param('rank'), 'number'),
    implicitPrefs: typed<boolean>(param('implicitPrefs'), 'boolean'),
    regParam: typed<number>(param('regParam'), 'number'),
    alpha: typed<number>(param('alpha'), 'number'),
    maxIter: typed<number>(param('maxIter'), 'number'),
    nonnegative: typed<boolean>(param('nonnegative'), 'boolean'),
  };
}

/** Every part file of one factor directory, in name order, as one side. */
async function readFactors(dir: string): Promise<{ side: SparkFactors; rank: number }> {
  if (!isDirectory(dir)) throw new DataFormatError(dir, undefined, 'missing: a saved ALSModel has userFactors/ and itemFactors/ directories');
  const files = partFiles(dir, (name) => name.endsWith('.parquet'));
  if (files.length === 0) throw new DataFormatError(dir, undefined, 'no Parquet part files (*.parquet)');
  const ids: string[] = [];
  // One block per part file, vectors copied straight in: no array per row to collect.
  const blocks: Float32Array[] = [];
  let rank = 0;
  for (const file of files) {
    const rows = await readPart(file);
    // Set by the first row of all (a bad first row is refused below, before anything is copied).
    rank ||= rows.length > 0 ? Math.max(lengthOf(rows[0].features), 0) : 0;
    const block = new Float32Array(rows.length * rank);
    rows.forEach(({ id, features }, r) => {
      if (!((typeof id === 'number' && Number.isInteger(id)) || typeof id === 'bigint')) {
        throw new DataFormatError(file, undefined, `id ${String(id)} is not an integer`);
      }
      const length = lengthOf(features);
      if (length < 0) throw new DataFormatError(file, undefined, `id ${id}: features is not a list`);
      if (length === 0) throw new DataFormatError(file, undefined, `id ${id} has no features`);
      if (length !== rank) throw new DataFormatError(file, undefined, `mismatched ranks: id ${id} has ${length} features where earlier rows have ${rank}`);
      const vector = features as ArrayLike<number>;
      for (let f = 0; f < rank; f++) {
        const x = vector[f];
        if (!Number.isFinite(x)) throw new DataFormatError(file, undefined, `id ${id}: features must be finite numbers (found ${String(x)})`);
        block[r * rank + f] = x;
      }
      ids.push(String(id));
    });
    blocks.push(block);
  }
  if (ids.length === 0) throw new DataFormatError(dir, undefined, 'the part files hold no rows');
  if (new Set(ids).size !== ids.length) throw new DataFormatError(dir, undefined, `${ids.length - new Set(ids).size} ids appear more than once`);
  const factors = new Float32Array(ids.length * rank);
  let offset = 0;
  for (const block of blocks) {
    factors.set(block, offset);
    offset += block.length;
  }
  return { side: { ids, factors }, rank };
}

/** The length of a `features` value: -1 when it is not a list. */
function lengthOf(features: unknown): number {
  return Array.isArray(features) || ArrayBuffer.isView(features) ? (features as ArrayLike<number>).length : -1;
}

/** The rows of one Parquet file; a file that is not Parquet, or lacks a column, fails naming it. */
async function readPart(file: string): Promise<Array<{ id: unknown; features: unknown }>> {
  try {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const columns = parquetSchema(metadata).children.map((child) => child.element.name);
    for (const column of ['id', 'features']) {
      if (!columns.includes(column)) throw new Error(`no column '${column}' (columns: ${columns.join(', ')})`);
    }
    return (await parquetReadObjects({ file: buffer, metadata, columns: ['id', 'features'], compressors })) as Array<{ id: unknown; features: unknown }>;
  } catch (error) {
    if (error instanceof DataFormatError) throw error;
    throw new DataFormatError(file, undefined, `not a readable Parquet file: ${(error as Error).message}`);
  }
}

/** Data files of a Spark output directory (bookkeeping files starting with `_` or `.` left out), sorted. */
function partFiles(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('_') && !name.startsWith('.') && keep(name))
    .sort()
    .map((name) => join(dir, name));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
