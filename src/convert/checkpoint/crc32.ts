import * as zlib from 'node:zlib';

const POLY = 0xedb88320;
let table: Uint32Array | undefined;

/** Table-driven CRC-32 (zip's), for Node versions before zlib.crc32 (20.15). */
export function crc32Js(data: Uint8Array, crc = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data` continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  return native ? native(data, crc) >>> 0 : crc32Js(data, crc);
}

function matTimes(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function matSquare(mat: Uint32Array): Uint32Array {
  const sq = new Uint32Array(32);
  for (let n = 0; n < 32; n++) sq[n] = matTimes(mat, mat[n]!);
  return sq;
}

/**
 * The CRC-32 after `count` more zero bytes, without touching them: the CRC
 * register's update for a zero bit is linear, so `count` bytes are that 32x32
 * GF(2) matrix raised to the 8·count-th power (by squaring). This lets the
 * writer leave zero tensors as holes in a sparse file and still record their CRC.
 */
export function crc32Zeros(crc: number, count: number): number {
  if (count <= 0) return crc >>> 0;
  // Operator for one zero bit, then squared up to one byte.
  let op: Uint32Array = new Uint32Array(32);
  op[0] = POLY;
  for (let n = 1; n < 32; n++) op[n] = (1 << (n - 1)) >>> 0;
  op = matSquare(matSquare(matSquare(op)));
  let reg = ~crc >>> 0;
  let left = count;
  while (left > 0) {
    if (left % 2 === 1) reg = matTimes(op, reg);
    left = Math.floor(left / 2);
    if (left > 0) op = matSquare(op);
  }
  return ~reg >>> 0;
}
