import { float16ToFloat32Array } from '../../inference/float16.js';
import type { TensorData, TensorDType } from './types.js';

export const DTYPE_BYTES: Readonly<Record<TensorDType, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function isIntegerDType(d: TensorDType): boolean {
  return d === 'int64' || d === 'int32' || d === 'int16' || d === 'int8' || d === 'uint8' || d === 'bool';
}

/** bfloat16 bit patterns to float32, exactly (bfloat16 is the top half of a float32). */
export function bfloat16ToFloat32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) o[i] = bits[i]! << 16 >>> 0;
  return out;
}

/** Reverses each element's bytes in place (big-endian files). */
export function swapBytes(bytes: Uint8Array, elementBytes: number): void {
  if (elementBytes === 1) return;
  for (let i = 0; i + elementBytes <= bytes.length; i += elementBytes) {
    for (let a = i, b = i + elementBytes - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** A typed array over little-endian element bytes (which must be aligned to the element size). */
export function typedView(dtype: TensorDType, bytes: Uint8Array): TensorData {
  const { buffer, byteOffset } = bytes;
  const n = bytes.length / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'float64': return new Float64Array(buffer, byteOffset, n);
    case 'float16':
    case 'bfloat16': return new Uint16Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'int16': return new Int16Array(buffer, byteOffset, n);
    case 'int8': return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool': return new Uint8Array(buffer, byteOffset, n);
  }
}

const ARRAY_OF: Readonly<Record<TensorDType, new (length: number) => TensorData>> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array, int64: BigInt64Array,
  int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

/** The bytes of a writer's tensor data, after checking that its array type and length fit the dtype and shape. */
export function dataBytes(key: string, dtype: TensorDType, size: number, data: TensorData): Uint8Array {
  const ctor = ARRAY_OF[dtype];
  if (!(data instanceof ctor)) throw new TypeError(`${key}: ${dtype} data must be a ${ctor.name}, not a ${data.constructor.name}`);
  if (data.length !== size) throw new RangeError(`${key}: its shape holds ${size} elements but its data has ${data.length}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Elements of `dtype` as float32. */
export function toFloat32(dtype: TensorDType, data: TensorData, out: Float32Array): Float32Array {
  switch (dtype) {
    case 'float16': return float16ToFloat32Array(data as Uint16Array, out);
    case 'bfloat16': return bfloat16ToFloat32(data as Uint16Array, out);
    case 'int64': {
      const d = data as BigInt64Array;
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
      return out;
    }
    default:
      // TypedArray.set converts each element with ToFloat32: round to nearest even, as torch's .float() does.
      out.set(data as Exclude<TensorData, BigInt64Array>);
      return out;
  }
}

/** Integer elements widened to int64. */
export function toInt64(dtype: TensorDType, data: TensorData, out: BigInt64Array): BigInt64Array {
  if (dtype === 'int64') {
    out.set(data as BigInt64Array);
    return out;
  }
  const d = data as Int32Array | Int16Array | Int8Array | Uint8Array;
  for (let i = 0; i < d.length; i++) out[i] = BigInt(d[i]!);
  return out;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
