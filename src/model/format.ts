import { InvalidInputError } from '../errors.ts';
import type { Algorithm } from './types.ts';

/**
 * The versioned binary model format:
 *   "LVRC" | u32 format version | u32 header length | header JSON (utf-8) | padding | data
 * The data region holds the arrays, stored raw (little-endian, 8-byte aligned), so save → load
 * is bit-exact and a loader can view them without parsing; from version 2 it also holds the user
 * and item id lists as JSON blocks of at most ID_BLOCK ids each, so a loader can parse a catalog
 * of millions of ids a block at a time (see decodeModelSteps). Version 1 (ids inside the header)
 * is still read.
 */
const MAGIC = 0x4352564c; // "LVRC" read as little-endian u32
export const FORMAT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
/** Ids per JSON block: parsing one takes a few milliseconds. */
const ID_BLOCK = 20_000;

export type ModelArray = Float32Array | Int32Array;

export interface ModelState {
  algorithm: Algorithm;
  params: Record<string, number | string | boolean>;
  users: string[];
  items: string[];
  /** Algorithm-specific scalars (global mean, factor count, ...). */
  scalars: Record<string, number>;
  arrays: Record<string, ModelArray>;
}

interface ArrayEntry {
  name: string;
  type: 'f32' | 'i32';
  offset: number;
  length: number;
}

/** One JSON array of ids in the data region: `bytes` of utf-8 at `offset`. */
interface IdBlock {
  offset: number;
  bytes: number;
}

export function encodeModel(state: ModelState): Uint8Array {
  const encoder = new TextEncoder();
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(state.arrays)) {
    entries.push({ name, type: array instanceof Float32Array ? 'f32' : 'i32', offset, length: array.length });
    offset = align8(offset + array.byteLength);
  }
  const blocks: Uint8Array[] = [];
  const idBlocks = (ids: string[]): IdBlock[] => {
    const out: IdBlock[] = [];
    for (let start = 0; start < ids.length; start += ID_BLOCK) {
      const text = encoder.encode(JSON.stringify(ids.slice(start, start + ID_BLOCK)));
      out.push({ offset, bytes: text.length });
      blocks.push(text);
      offset = align8(offset + text.length);
    }
    return out;
  };
  const ids = { users: idBlocks(state.users), items: idBlocks(state.items) };
  const header = encoder.encode(
    JSON.stringify({ algorithm: state.algorithm, params: state.params, ids, scalars: state.scalars, arrays: entries }),
  );
  const dataStart = align8(12 + header.length);
  const bytes = new Uint8Array(dataStart + offset);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  for (const entry of entries) {
    const array = state.arrays[entry.name];
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), dataStart + entry.offset);
  }
  [...ids.users, ...ids.items].forEach((block, t) => bytes.set(blocks[t], dataStart + block.offset));
  return bytes;
}

export function decodeModel(bytes: Uint8Array): ModelState {
  const steps = decodeModelSteps(bytes);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * `decodeModel` as steps of a few milliseconds each (the header, then one block of ids per step),
 * for a loader that serves between them. Arrays are views into `bytes` where aligned (no copy of
 * a model's tens of megabytes); a restore copies what it keeps, so `bytes` can be collected after.
 */
export function* decodeModelSteps(bytes: Uint8Array): Generator<void, ModelState> {
  if (bytes.length < 12) throw new InvalidInputError('model file is truncated: shorter than its 12-byte preamble', 'model');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new InvalidInputError('not a liverec model: the file does not start with "LVRC"', 'model');
  const version = view.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new InvalidInputError(`model format version ${version} is not supported (this build reads versions ${READABLE_VERSIONS.join(', ')})`, 'model');
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new InvalidInputError('model file is truncated inside its header', 'model');
  const decoder = new TextDecoder();
  const header = JSON.parse(decoder.decode(bytes.subarray(12, 12 + headerLength)));
  const dataStart = align8(12 + headerLength);
  const arrays: Record<string, ModelArray> = {};
  for (const entry of header.arrays as ArrayEntry[]) {
    const start = dataStart + entry.offset;
    const end = start + entry.length * 4;
    if (end > bytes.length) throw new InvalidInputError(`model file is truncated inside array '${entry.name}'`, 'model');
    const aligned = (bytes.byteOffset + start) % 4 === 0;
    const buffer = aligned ? bytes.buffer : bytes.slice(start, end).buffer;
    const offset = aligned ? bytes.byteOffset + start : 0;
    arrays[entry.name] = entry.type === 'f32' ? new Float32Array(buffer, offset, entry.length) : new Int32Array(buffer, offset, entry.length);
  }
  let users: string[] = header.users;
  let items: string[] = header.items;
  if (version >= 2) {
    const read = function* (blocks: IdBlock[]): Generator<void, string[]> {
      const ids: string[] = [];
      for (const { offset, bytes: length } of blocks) {
        yield;
        const start = dataStart + offset;
        if (start + length > bytes.length) throw new InvalidInputError('model file is truncated inside its id lists', 'model');
        for (const id of JSON.parse(decoder.decode(bytes.subarray(start, start + length))) as string[]) ids.push(id);
      }
      return ids;
    };
    users = yield* read(header.ids.users);
    items = yield* read(header.ids.items);
  }
  return { algorithm: header.algorithm, params: header.params, users, items, scalars: header.scalars, arrays };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
