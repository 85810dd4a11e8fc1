import { DTYPE_BYTES, elementCount, isIntegerDType, swapBytes, toFloat32, toInt64, typedView } from './dtype.js';
import type { TensorData, TensorDType, TensorRef } from './types.js';

/** Where a tensor's bytes come from: `readInto(dst, start)` fills dst from byte `start` of its storage. */
export interface ByteSource {
  readInto(dst: Uint8Array, start: number): void;
}

export interface TensorLayout {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /** In elements, as torch stores them. */
  readonly stride: readonly number[];
  /** Byte offset of element [0, 0, …] in its storage. */
  readonly byteOffset: number;
}

export function contiguousStride(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Elements from the first to the last one the layout touches (0 for an empty tensor). */
export function spanElements(shape: readonly number[], stride: readonly number[]): number {
  let span = 1;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 0) return 0;
    span += (shape[i]! - 1) * stride[i]!;
  }
  return span;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== acc) return false;
    acc *= shape[i]!;
  }
  return true;
}

/** Copies a strided view into C order; `src[0]` is the view's first element. */
function gather<T extends TensorData>(src: T, shape: readonly number[], stride: readonly number[], out: T): T {
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let at = 0;
  const last = nd - 1;
  const s = src as unknown as { [i: number]: number | bigint };
  const o = out as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < out.length;) {
    // Innermost dimension in one run.
    const n = shape[last]!;
    const st = stride[last]!;
    for (let k = 0, p = at; k < n; k++, p += st) o[i++] = s[p]!;
    // Carry into the outer dimensions.
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      at += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      at -= shape[d]! * stride[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

function emptyLike(dtype: TensorDType, n: number): TensorData {
  return typedView(dtype, new Uint8Array(n * DTYPE_BYTES[dtype]));
}

/** A tensor in a file: reads go straight to its bytes, one positioned read each. */
export class StoredTensor implements TensorRef {
  readonly size: number;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  private readonly stride: readonly number[];
  private readonly byteOffset: number;

  constructor(
    readonly key: string,
    layout: TensorLayout,
    private readonly source: ByteSource,
    /** Big-endian file: every element's bytes are reversed after reading. */
    private readonly swap: boolean,
  ) {
    this.dtype = layout.dtype;
    this.shape = Object.freeze([...layout.shape]);
    this.stride = layout.stride;
    this.byteOffset = layout.byteOffset;
    this.size = elementCount(this.shape);
  }

  /** The elements in C order, in the file's own dtype. */
  private readElements(): TensorData {
    if (this.size === 0) return emptyLike(this.dtype, 0);
    const eb = DTYPE_BYTES[this.dtype];
    const span = spanElements(this.shape, this.stride);
    const bytes = new Uint8Array(span * eb);
    this.source.readInto(bytes, this.byteOffset);
    if (this.swap) swapBytes(bytes, eb);
    const all = typedView(this.dtype, bytes);
    if (isContiguous(this.shape, this.stride)) return all;
    return gather(all, this.shape, this.stride, emptyLike(this.dtype, this.size));
  }

  readFloat32(): Float32Array {
    const data = this.readElements();
    if (this.dtype === 'float32') return data as Float32Array;
    return toFloat32(this.dtype, data, new Float32Array(this.size));
  }

  readInt64(): BigInt64Array {
    if (!isIntegerDType(this.dtype)) throw new TypeError(`${this.key} is a ${this.dtype} tensor; use readFloat32()`);
    const data = this.readElements();
    if (this.dtype === 'int64') return data as BigInt64Array;
    return toInt64(this.dtype, data, new BigInt64Array(this.size));
  }
}
