import { readFileSync, writeFileSync } from 'node:fs';

/**
 * numpy `.npy` (format 1.0) for float32 arrays, so `np.load` reads raw model
 * output without any depth-video code. Written exactly as numpy writes it:
 * magic, version 1.0, little-endian u16 header length, a Python dict literal
 * padded with spaces and ending in '\n' so data starts on a 64-byte boundary.
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

function npyHeader(shape: readonly number[]): Buffer {
  // numpy writes 1-tuples with a trailing comma: (5,)
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const text = dict + ' '.repeat(pad) + '\n';
  if (text.length > 0xffff) throw new RangeError('npy: header too long for format 1.0');
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1')]);
}

/** The complete file bytes of a C-order little-endian float32 array. */
export function encodeNpy(shape: readonly number[], data: Float32Array): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const header = npyHeader(shape);
  const out = Buffer.alloc(header.length + data.length * 4);
  header.copy(out, 0);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  else for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], header.length + i * 4);
  return out;
}

export function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  writeFileSync(path, encodeNpy(shape, data));
}

/** Parse a `.npy` file's bytes; accepts versions 1-3 and '<f4' / '<f8' (widened to float32). */
export function decodeNpy(file: Uint8Array): NpyArray {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error('npy: not a .npy file (bad magic)');
  const major = buf[6];
  let headerLen: number;
  let start: number;
  if (major === 1) { headerLen = buf.readUInt16LE(8); start = 10; }
  else if (major === 2 || major === 3) { headerLen = buf.readUInt32LE(8); start = 12; }
  else throw new Error(`npy: unsupported format version ${major}`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error('npy: malformed header');
  if (fortran === 'True') throw new Error('npy: Fortran-order arrays are not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`npy: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (size === 0) throw new Error(`npy: dtype ${descr} is not supported (need '<f4')`);
  if (buf.length < dataStart + count * size) throw new Error('npy: file is shorter than its shape says (truncated)');
  const data = new Float32Array(count);
  if (size === 4 && LITTLE_ENDIAN) {
    // Copy rather than view: the data offset need not be 4-byte aligned in a foreign file.
    new Uint8Array(data.buffer).set(buf.subarray(dataStart, dataStart + count * 4));
  } else {
    for (let i = 0; i < count; i++) data[i] = size === 4 ? buf.readFloatLE(dataStart + i * 4) : buf.readDoubleLE(dataStart + i * 8);
  }
  return { shape, data };
}

export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path));
}
