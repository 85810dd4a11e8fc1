import { describe, expect, it } from 'vitest';
import {
  float16BitsToFloat32,
  float16ToFloat32Array,
  float32ToFloat16Array,
  float32ToFloat16Bits,
} from '../../src/inference/float16.js';

/** binary16 from its definition, independent of the bit tricks under test. */
function halfValue(h: number): number {
  const s = h >= 0x8000 ? -1 : 1;
  const e = Math.floor(h / 1024) % 32;
  const m = h % 1024;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return e === 0 ? s * (m / 1024) * 2 ** -14 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Every finite non-negative half, ascending (bit order is value order for them), then +inf. */
const ladder: number[] = [];
for (let h = 0; h < 0x7c00; h++) ladder.push(halfValue(h));

/**
 * The half nearest to x by exhaustive search, ties to the even bit pattern;
 * above 65504 the next step is 65536, which is infinity.
 */
function nearestHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0;
  let hi = ladder.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ladder[mid] <= a) lo = mid;
    else hi = mid - 1;
  }
  const below = lo;
  const belowV = ladder[below];
  const aboveV = below + 1 < ladder.length ? ladder[below + 1] : 65536;
  const dBelow = a - belowV;
  const dAbove = aboveV - a;
  const pick = dBelow < dAbove ? below : dAbove < dBelow ? below + 1 : below % 2 === 0 ? below : below + 1;
  return sign | pick;
}

describe('float16 conversion', () => {
  it('decodes every one of the 65536 halves exactly and round-trips them', () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = float16BitsToFloat32(h);
      const want = halfValue(h);
      if (Number.isNaN(want)) {
        if (!Number.isNaN(v) || !Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(v)))) bad.push(`NaN h=${h}`);
      } else if (!Object.is(v, want) || Math.fround(v) !== v || float32ToFloat16Bits(v) !== h) {
        bad.push(`h=${h}: ${v} vs ${want}, back ${float32ToFloat16Bits(v)}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    const finite = Array.from({ length: 65536 }, (_, h) => h).filter((h) => (h & 0x7c00) !== 0x7c00);
    const viaArray = float32ToFloat16Array(Float32Array.from(finite, halfValue));
    expect(finite.filter((h, i) => viaArray[i] !== h).slice(0, 5)).toEqual([]);
  });

  it('rounds to nearest, ties to even, at the edges of the format', () => {
    const cases: [number, number][] = [
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1+2^-10: even (1) wins
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between 1+2^-10 (odd) and 1+2^-9: even wins
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to 65536, which is infinity
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // exactly half of it: ties to even zero
      [Math.fround(2 ** -25 * 1.0000001), 0x0001],
      [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 subnormal steps: even
      [2 ** -14 - 2 ** -25, 0x0400], // rounds up into the smallest normal
      [-0, 0x8000],
      [1e-40, 0x0000], // a float32 subnormal
    ];
    for (const [x, h] of cases) expect(float32ToFloat16Bits(x), `x=${x}`).toBe(h);
    // The array version has its own fast path for normal halves: the same answers.
    expect([...float32ToFloat16Array(Float32Array.from(cases, (c) => c[0]))]).toEqual(cases.map((c) => c[1]));
    expect(float32ToFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('matches an exhaustive nearest-half search on 200k random floats of every magnitude', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const xs = new Float32Array(200_000);
    for (let i = 0; i < xs.length; i++) {
      const mag = 2 ** (rand() * 46 - 28); // 2^-28 .. 2^18: zero, subnormal, normal and overflow
      xs[i] = (rand() < 0.5 ? -1 : 1) * mag * (1 + rand());
    }
    const out = float32ToFloat16Array(xs);
    for (let i = 0; i < xs.length; i++) {
      if (out[i] !== nearestHalfBits(xs[i])) expect(out[i], `x=${xs[i]}`).toBe(nearestHalfBits(xs[i]));
    }
    const back = float16ToFloat32Array(out);
    for (let i = 0; i < xs.length; i++) {
      const h = out[i];
      if (back[i] !== halfValue(h)) expect(back[i], `h=${h}`).toBe(halfValue(h));
    }
  });

  it('array versions fill a reused buffer and refuse a short one', () => {
    const src = Float32Array.from([0.5, -2, 3.140625]);
    const dst = new Uint16Array(8);
    expect(float32ToFloat16Array(src, dst)).toBe(dst);
    expect([...dst.subarray(0, 3)]).toEqual([0x3800, 0xc000, 0x4248]);
    expect(() => float32ToFloat16Array(src, new Uint16Array(2))).toThrow(RangeError);
    const f = new Float32Array(3);
    expect([...float16ToFloat32Array(dst.subarray(0, 3), f)]).toEqual([0.5, -2, 3.140625]);
  });
});
