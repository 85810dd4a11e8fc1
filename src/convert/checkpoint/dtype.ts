import type { TensorDType } from './types.js';

export const DTYPE_BYTES: Readonly<Record<TensorDType, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** float16 bit patterns to float32, exactly. */
export function float16ToFloat32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  void bits;
  throw new Error('not implemented yet');
  return out;
}

/** bfloat16 bit patterns to float32, exactly. */
export function bfloat16ToFloat32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  void bits;
  throw new Error('not implemented yet');
  return out;
}
