/** Element types the reader understands (PyTorch dtype names). */
export type TensorDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** One tensor of a checkpoint. Nothing is read from disk until a read method is called. */
export interface TensorRef {
  readonly key: string;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /** Element count (1 for a scalar, 0 for an empty tensor). */
  readonly size: number;
  /**
   * Reads this tensor's elements now, in C order: one positioned read of the
   * bytes it spans (storage offset and strides honoured), converted to float32
   * (float16/bfloat16 exactly, float64 and integers rounded to nearest).
   */
  readFloat32(): Float32Array;
  /** Integer and bool tensors only (relative_position_index, num_batches_tracked, …). */
  readInt64(): BigInt64Array;
}

export interface Checkpoint {
  readonly path: string;
  readonly format: 'torch-zip' | 'safetensors';
  /**
   * The state dict, in file order: pickle order for torch files, data order for
   * safetensors. Tensors only: other values a state dict may hold are skipped.
   */
  readonly tensors: ReadonlyMap<string, TensorRef>;
  /**
   * Where the state dict was found inside a wrapper dict, as the keys from the
   * top, joined by '/': 'model', 'state_dict', 'model/state_dict'. null when the
   * file's top-level object is the state dict itself.
   */
  readonly wrapper: string | null;
  /** Closes the file; reads after this throw. */
  close(): void;
}

/**
 * Elements in C order, one typed array per dtype: Float32Array (float32),
 * Float64Array (float64), Uint16Array holding the raw bits (float16, bfloat16),
 * BigInt64Array (int64), Int32Array, Int16Array, Int8Array, Uint8Array (uint8,
 * and bool as 0/1).
 */
export type TensorData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A tensor to write. */
export interface TensorEntry {
  readonly key: string;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /**
   * The elements. A function is called only when this tensor's bytes are
   * written, so a generator of entries with lazy data streams: one tensor is in
   * memory at a time. Omitted: zeros, left as a hole (a sparse file costs no
   * disk for them).
   */
  readonly data?: TensorData | (() => TensorData);
}

/**
 * A tensor that shares the storage of an earlier entry (torch zip only): a view
 * with its own offset and strides, in elements, like `base.as_strided(shape,
 * stride, offset)`.
 */
export interface TensorViewEntry {
  readonly key: string;
  readonly viewOf: string;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
}

export type CheckpointEntry = TensorEntry | TensorViewEntry;

export interface WriteCheckpointOptions {
  /** Replace an existing file (otherwise an existing path is an error). */
  readonly overwrite?: boolean;
}

export interface WriteTorchOptions extends WriteCheckpointOptions {
  /**
   * Nest the state dict in wrapper dicts, outermost first: ['model'] writes
   * {'model': state_dict}. Extra top-level entries can ride along in `extras`.
   */
  readonly wrapper?: readonly string[];
  /** Plain values stored beside the wrapper key at the top level (e.g. {epoch: 3}). */
  readonly extras?: Readonly<Record<string, number | string | boolean | null>>;
  /** The folder inside the zip (default: the file name without extension, as torch.save names it). */
  readonly archiveName?: string;
  /** The `byteorder` record (PyTorch ≥ 2.1 writes it); null leaves it out, as older versions did. */
  readonly byteorder?: 'little' | 'big' | null;
}
