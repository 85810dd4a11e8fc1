/**
 * IEEE 754 binary16 <-> binary32, exactly. Node 20 has no Float16Array, and
 * onnxruntime-node takes and returns 'float16' tensors as Uint16Array bit
 * patterns, so graphs exported in fp16 without keep_io_types are converted at
 * the worker's boundary with these; the checkpoint reader decodes fp16
 * tensors with them too.
 *
 * float32 -> float16 rounds to nearest, ties to even (what numpy's
 * astype(np.float16) and onnxconverter-common do); values from 65520 up round
 * to infinity, and anything below half the smallest subnormal (2^-25) to a
 * signed zero. float16 -> float32 is exact (every half is a float).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern nearest to the float32 with bit pattern `u`. */
function halfFromFloatBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 : sign | 0x7c00;
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e > 0) {
    const h = sign | (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    // A carry out of the mantissa bumps the exponent, up to infinity: exactly the rounding wanted.
    return rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h;
  }
  // Subnormal half: the 24-bit significand in units of 2^-24 is m >> (126 - exp).
  const shift = 126 - exp;
  if (shift > 24) return sign;
  const m = mant | 0x800000;
  let q = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (q & 1) === 1)) q++;
  return sign | q;
}

export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  return halfFromFloatBits(u32[0]);
}

/**
 * One half's float32 bit pattern: exact, subnormals normalised, NaN payloads
 * kept (as c10's conversion does, so a checkpoint's NaNs read as torch reads them).
 */
function floatBitsFromHalf(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // A subnormal half is mant·2^-24: shift it up to a normal float32.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

export function float16BitsToFloat32(h: number): number {
  u32[0] = floatBitsFromHalf(h);
  return f32[0];
}

let table: Uint32Array | undefined;

/**
 * All 65536 halves as float32 bit patterns (256 KB), built on first use: a
 * lookup beats decoding per element, and copying bits rather than numbers
 * keeps NaN payloads.
 */
function halfTable(): Uint32Array {
  if (!table) {
    table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = floatBitsFromHalf(h);
  }
  return table;
}

/** Converts a whole tensor; `dst` (reused between frames) must hold src.length values. */
export function float32ToFloat16Array(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (dst.length < src.length) throw new RangeError(`float32ToFloat16Array: dst holds ${dst.length} values, needs ${src.length}`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i];
    const x = u & 0x7fffffff;
    if (x >= 0x38800000 && x < 0x47800000) {
      // Normal halves (2^-14 <= |v| < 2^16), the hot path: adding 0xfff plus the
      // kept lowest bit rounds the 13 dropped bits to nearest even, carries included.
      const h = ((x + 0xfff + ((x >>> 13) & 1)) >>> 13) - 0x1c000;
      dst[i] = ((u >>> 16) & 0x8000) | (h > 0x7bff ? 0x7c00 : h);
    } else {
      dst[i] = halfFromFloatBits(u);
    }
  }
  return dst;
}

/** Converts a whole tensor exactly; `dst` (reused between frames) must hold src.length values. */
export function float16ToFloat32Array(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (dst.length < src.length) throw new RangeError(`float16ToFloat32Array: dst holds ${dst.length} values, needs ${src.length}`);
  const t = halfTable();
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]];
  return dst;
}
