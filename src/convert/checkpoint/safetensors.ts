/**
 * .safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * ({key: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}),
 * then the tensors' little-endian bytes, contiguous, at offsets counted from
 * the end of the header. No pickle, no strides, no shared storage.
 */
import { DTYPE_BYTES, dataBytes, elementCount } from './dtype.js';
import { damagedCheckpoint, invalidCheckpoint } from './errors.js';
import type { RandomAccessFile } from './file.js';
import { writeAtomically } from './out-file.js';
import { StoredTensor, contiguousStride } from './tensor.js';
import type { TensorDType, TensorEntry, TensorRef, WriteCheckpointOptions } from './types.js';

const FROM_ST: Readonly<Record<string, TensorDType>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const TO_ST = Object.fromEntries(Object.entries(FROM_ST).map(([k, v]) => [v, k])) as Record<TensorDType, string>;

// A header larger than this is not a real one (the format's own readers cap it at 100 MB).
const MAX_HEADER = 100_000_000;

/** True when the first bytes look like a safetensors header: a sane length followed by '{'. */
export function looksLikeSafetensors(head: Buffer): boolean {
  if (head.length < 9 || head[8] !== 0x7b) return false;
  const n = head.readBigUInt64LE(0);
  return n >= 2n && n <= BigInt(MAX_HEADER);
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function openSafetensors(file: RandomAccessFile): Map<string, TensorRef> {
  const path = file.path;
  const n = Number(file.read(0, 8).readBigUInt64LE(0));
  if (8 + n > file.size) throw damagedCheckpoint(path, `its safetensors header of ${n} bytes runs past the end of the ${file.size}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(file.read(8, n).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidCheckpoint(path, 'its safetensors header is not valid JSON');
  }
  const dataStart = 8 + n;
  const dataBytesAvailable = file.size - dataStart;
  const source = { readInto: (dst: Uint8Array, at: number) => file.readInto(dst, dataStart + at) };
  const found: { key: string; begin: number; tensor: TensorRef }[] = [];
  for (const [key, raw] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const h = raw as HeaderEntry;
    // Own keys only: a dtype named like an inherited property ("constructor") is no dtype.
    const dtype = typeof h?.dtype === 'string' && Object.hasOwn(FROM_ST, h.dtype) ? FROM_ST[h.dtype] : undefined;
    if (!h || !Array.isArray(h.shape) || !Array.isArray(h.data_offsets)) throw invalidCheckpoint(path, `safetensors entry ${key} has no dtype/shape/data_offsets`);
    if (!dtype) throw invalidCheckpoint(path, `tensor ${key} has safetensors dtype ${String(h.dtype)}, which depth-video does not read`);
    const [begin, end] = h.data_offsets;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || !h.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw invalidCheckpoint(path, `safetensors entry ${key} has a malformed shape or data_offsets`);
    }
    const want = elementCount(h.shape) * DTYPE_BYTES[dtype];
    if (end - begin !== want) throw invalidCheckpoint(path, `tensor ${key} (shape [${h.shape.join(', ')}], ${h.dtype}) needs ${want} bytes but its data_offsets span ${end - begin}`);
    if (end > dataBytesAvailable) throw damagedCheckpoint(path, `tensor ${key} ends at byte ${dataStart + end} of a ${file.size}-byte file`);
    found.push({ key, begin, tensor: new StoredTensor(key, { dtype, shape: h.shape, stride: contiguousStride(h.shape), byteOffset: begin }, source, false) });
  }
  found.sort((a, b) => a.begin - b.begin);
  return new Map(found.map((f) => [f.key, f.tensor]));
}

/** Writes a .safetensors file; tensors are laid out in the order given. Lazy `data` functions are called one at a time. */
export function writeSafetensors(path: string, entries: Iterable<TensorEntry>, opts: WriteCheckpointOptions = {}): void {
  const list = [...entries];
  const header: Record<string, HeaderEntry> = {};
  let offset = 0;
  for (const e of list) {
    if ('viewOf' in e) throw new TypeError(`${e.key}: safetensors has no shared storage; write the view as its own tensor`);
    if (e.key in header) throw new Error(`${e.key} is given twice`);
    const bytes = elementCount(e.shape) * DTYPE_BYTES[e.dtype];
    header[e.key] = { dtype: TO_ST[e.dtype], shape: [...e.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeAtomically(path, opts.overwrite ?? false, (out) => {
    out.write(head);
    out.write(Buffer.from(json, 'utf8'));
    for (const e of list) {
      const size = elementCount(e.shape);
      const data = typeof e.data === 'function' ? e.data() : e.data;
      if (data === undefined) out.skip(size * DTYPE_BYTES[e.dtype]);
      else out.write(dataBytes(e.key, e.dtype, size, data));
    }
  });
}
