import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js, crc32Zeros } from '../../src/convert/checkpoint/crc32.js';
import { bfloat16ToFloat32, swapBytes } from '../../src/convert/checkpoint/dtype.js';
import { float16ToFloat32Array } from '../../src/inference/float16.js';

const f32Bits = (v: Float32Array): Uint32Array => new Uint32Array(v.buffer, v.byteOffset, v.length);

/** IEEE 754 binary16, from the definition: (-1)^s · 2^(e-15) · (1 + m/1024), subnormal m · 2^-24. */
function halfByFormula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

/** bfloat16: 8 exponent bits like float32, 7 mantissa bits. */
function bf16ByFormula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 0) return s * m * 2 ** -133;
  if (e === 255) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 127) * (1 + m / 128);
}

describe('float16 and bfloat16 to float32', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);

  it('float16: every one of the 65536 bit patterns equals the IEEE formula (subnormals, ±0, ±inf), NaNs keep sign and payload', () => {
    const out = float16ToFloat32Array(all);
    const bits = f32Bits(out);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = halfByFormula(h);
      // c10's conversion keeps a NaN's payload: sign | all-ones exponent | mantissa << 13.
      const ok = Number.isNaN(want) ? bits[h] === ((((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0) : Object.is(out[h], want);
      if (!ok) wrong.push(`0x${h.toString(16)}: ${out[h]} vs ${want}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    // Spot values a reader of the table can check by eye.
    expect(out[0x0001]).toBe(5.960464477539063e-8);
    expect(out[0x03ff]).toBe(6.097555160522461e-5);
    expect(out[0x0400]).toBe(6.103515625e-5);
    expect(out[0x7bff]).toBe(65504);
    expect(Object.is(out[0x8000], -0)).toBe(true);
  });

  it('bfloat16: every bit pattern equals the formula, and is the top half of a float32', () => {
    const out = bfloat16ToFloat32(all);
    const bits = f32Bits(out);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = bf16ByFormula(h);
      const ok = bits[h] === (h << 16) >>> 0 && (Number.isNaN(want) ? Number.isNaN(out[h]) : Object.is(out[h], want));
      if (!ok) wrong.push(`0x${h.toString(16)}: ${out[h]} vs ${want}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(out[0x0001]).toBe(2 ** -133);
    expect(out[0x7f7f]).toBe(3.3895313892515355e38);
  });

  it('swapBytes reverses each element', () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    swapBytes(b, 4);
    expect([...b]).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    swapBytes(b, 8);
    expect([...b]).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
  });
});

describe('CRC-32', () => {
  it('the table fallback matches zlib on random data, also continued from a previous CRC', () => {
    const data = randomBytes(100_003);
    expect(crc32Js(data)).toBe(zlib.crc32(data));
    expect(crc32Js(data.subarray(50_000), crc32Js(data.subarray(0, 50_000)))).toBe(zlib.crc32(data));
    expect(crc32(data)).toBe(zlib.crc32(data));
  });

  it('crc32Zeros gives the CRC of a run of zero bytes without reading them', () => {
    const head = Buffer.from('state dict');
    for (const n of [0, 1, 7, 64, 1_000_003]) {
      const whole = Buffer.concat([head, Buffer.alloc(n)]);
      expect(crc32Zeros(zlib.crc32(head), n), `${n} zeros`).toBe(zlib.crc32(whole));
    }
    expect(crc32Zeros(0, 4096)).toBe(zlib.crc32(Buffer.alloc(4096)));
  });
});
