import { InvalidInputError } from '../errors.ts';
import type { Algorithm } from './types.ts';

/**
 * The versioned binary model format:
 *   "LVRC" | u32 format version | u32 header length | header JSON (utf-8) | padding | arrays
 * Arrays are stored raw (little-endian, 8-byte aligned), so save → load is bit-exact and a
 * loader can view them without parsing.
 */
const MAGIC = 0x4352564c; // "LVRC" read as little-endian u32
export const FORMAT_VERSION = 1;

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

export function encodeModel(state: ModelState): Uint8Array {
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(state.arrays)) {
    entries.push({ name, type: array instanceof Float32Array ? 'f32' : 'i32', offset, length: array.length });
    offset = align8(offset + array.byteLength);
  }
  const header = new TextEncoder().encode(
    JSON.stringify({ algorithm: state.algorithm, params: state.params, users: state.users, items: state.items, scalars: state.scalars, arrays: entries }),
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
  return bytes;
}

export function decodeModel(bytes: Uint8Array): ModelState {
  if (bytes.length < 12) throw new InvalidInputError('model file is truncated: shorter than its 12-byte preamble', 'model');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new InvalidInputError('not a liverec model: the file does not start with "LVRC"', 'model');
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    throw new InvalidInputError(`model format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`, 'model');
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new InvalidInputError('model file is truncated inside its header', 'model');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  const dataStart = align8(12 + headerLength);
  const arrays: Record<string, ModelArray> = {};
  for (const entry of header.arrays as ArrayEntry[]) {
    const start = dataStart + entry.offset;
    const end = start + entry.length * 4;
    if (end > bytes.length) throw new InvalidInputError(`model file is truncated inside array '${entry.name}'`, 'model');
    // Copy so the arrays are aligned and independent of the caller's buffer.
    const raw = bytes.slice(start, end).buffer;
    arrays[entry.name] = entry.type === 'f32' ? new Float32Array(raw) : new Int32Array(raw);
  }
  return { algorithm: header.algorithm, params: header.params, users: header.users, items: header.items, scalars: header.scalars, arrays };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
