import { open, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import onnx from 'onnx-proto';
import { EXTERNAL_DATA_BYTES_KEY, externalDataPath, varint } from '../../models/onnx-wire.js';
import { elementCount, modelHeader, type GraphParts, type Initializer, type ModelOptions } from './graph.js';

/**
 * Writes a ModelProto to disk without ever holding all initializers, or an
 * encoding of them, in memory: a converted ViT-L is 1.3 GB.
 *
 * Protobuf frames every message with its byte length, and every length here
 * is known before any value is read (an initializer's raw_data is 4 bytes a
 * float). So the model's small fields and the graph without initializers are
 * encoded by protobufjs as usual; each initializer is then framed by hand and
 * its values read (e.g. from a checkpoint), written and dropped one tensor at
 * a time. Protobuf parsers accept fields in any order, so the initializers
 * simply follow the rest of the graph.
 *
 * A protobuf message cannot exceed 2 GiB, so above `externalDataAbove` bytes
 * of values (ViT-G: ~5 GB) the values go to `<file>.data` beside the model as
 * ONNX external data (`location` / `offset` / `length` on each tensor), which
 * onnxruntime reads when it loads the model from its path.
 */

const FLOAT = onnx.onnx.TensorProto.DataType.FLOAT;
const EXTERNAL = onnx.onnx.TensorProto.DataLocation.EXTERNAL;
/** Wire-format tags (field number << 3 | 2 for length-delimited fields). */
const MODEL_GRAPH_TAG = (7 << 3) | 2;
const GRAPH_INITIALIZER_TAG = (5 << 3) | 2;
const TENSOR_RAW_DATA_TAG = (9 << 3) | 2;

/** Keeps the whole message under protobuf's 2 GiB with room for the graph itself. */
const DEFAULT_EXTERNAL_DATA_ABOVE = 1.9 * 1024 ** 3;
/** External tensors start on page boundaries, so onnxruntime may map them instead of copying. */
const EXTERNAL_ALIGN = 4096;

export interface WriteModelOptions extends ModelOptions {
  /** Bytes of initializer values above which they go to `<file>.data`. */
  readonly externalDataAbove?: number;
  /** Called after each tensor with bytes of values written so far and in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface WrittenModel {
  readonly path: string;
  /** Size of the .onnx file. */
  readonly bytes: number;
  /** The external data file, when the values did not fit in the model. */
  readonly dataPath: string | null;
  readonly parameterCount: number;
}

/** tag + length prefix of a length-delimited field. */
function frame(tag: number, length: number): Uint8Array {
  const len = varint(length);
  const out = new Uint8Array(1 + len.length);
  out[0] = tag;
  out.set(len, 1);
  return out;
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  // Every platform onnxruntime-node ships for is little-endian, as raw_data is.
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

interface Placed {
  readonly init: Initializer;
  /** The TensorProto without its values (and, for external data, with their place). */
  readonly head: Uint8Array;
  readonly valueBytes: number;
  /** Offset in the .data file, or -1 when the values are inline. */
  readonly offset: number;
}

function place(inits: readonly Initializer[], external: boolean, dataName: string): Placed[] {
  let offset = 0;
  return inits.map((init) => {
    const valueBytes = elementCount(init.dims) * 4;
    const base = { name: init.name, dims: [...init.dims], dataType: FLOAT };
    if (!external) return { init, head: onnx.onnx.TensorProto.encode(base).finish(), valueBytes, offset: -1 };
    offset = Math.ceil(offset / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    const externalData = [
      { key: 'location', value: dataName },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(valueBytes) },
    ];
    const head = onnx.onnx.TensorProto.encode({ ...base, externalData, dataLocation: EXTERNAL }).finish();
    const placed = { init, head, valueBytes, offset };
    offset += valueBytes;
    return placed;
  });
}

/** The TensorProto's encoded length: its head plus, inline, the framed raw_data. */
function tensorLength(p: Placed): number {
  return p.offset >= 0 ? p.head.length : p.head.length + frame(TENSOR_RAW_DATA_TAG, p.valueBytes).length + p.valueBytes;
}

async function valuesOf(init: Initializer): Promise<Float32Array> {
  const values = init.values instanceof Float32Array ? init.values : await init.values();
  const count = elementCount(init.dims);
  if (values.length !== count) throw new Error(`initializer ${init.name}: dims ${init.dims.join('x')} need ${count} values, got ${values.length}`);
  return values;
}

function tempName(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/**
 * Writes the model to `path` through a temp file and a rename, so `path`
 * is either the old file or the complete new one. The caller decides
 * whether replacing an existing file is allowed.
 */
export async function writeModel(parts: GraphParts, path: string, opts: WriteModelOptions = {}): Promise<WrittenModel> {
  const totalValueBytes = parts.initializers.reduce((a, t) => a + elementCount(t.dims) * 4, 0);
  const external = totalValueBytes > (opts.externalDataAbove ?? DEFAULT_EXTERNAL_DATA_ABOVE);
  const dataPath = externalDataPath(path);
  const placed = place(parts.initializers, external, basename(dataPath));
  const last = placed[placed.length - 1];
  const metadata = external && last ? { ...opts.metadata, [EXTERNAL_DATA_BYTES_KEY]: String(last.offset + last.valueBytes) } : opts.metadata;

  const header = onnx.onnx.ModelProto.encode(modelHeader({ ...opts, metadata })).finish();
  const graphRest = onnx.onnx.GraphProto.encode({ name: parts.name, node: [...parts.nodes], input: [...parts.inputs], output: [...parts.outputs] }).finish();
  let graphLength = graphRest.length;
  for (const p of placed) {
    const len = tensorLength(p);
    graphLength += frame(GRAPH_INITIALIZER_TAG, len).length + len;
  }

  const tmp = tempName(path);
  const dataTmp = external ? tempName(dataPath) : null;
  const model = await open(tmp, 'w');
  const data = dataTmp ? await open(dataTmp, 'w') : null;
  try {
    let written = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      await model.write(bytes);
      written += bytes.length;
    };
    await put(header);
    await put(frame(MODEL_GRAPH_TAG, graphLength));
    await put(graphRest);
    let done = 0;
    for (const p of placed) {
      await put(frame(GRAPH_INITIALIZER_TAG, tensorLength(p)));
      await put(p.head);
      const bytes = littleEndianBytes(await valuesOf(p.init));
      if (data) {
        await data.write(bytes, 0, bytes.length, p.offset);
      } else {
        await put(frame(TENSOR_RAW_DATA_TAG, p.valueBytes));
        await put(bytes);
      }
      done += p.valueBytes;
      opts.onProgress?.(done, totalValueBytes);
    }
    await model.close();
    await data?.close();
    if (dataTmp) await rename(dataTmp, dataPath);
    await rename(tmp, path);
    // A model replaced by one with inline values must not leave the old values lying beside it.
    if (!external) await rm(dataPath, { force: true });
    return { path, bytes: written, dataPath: external ? dataPath : null, parameterCount: totalValueBytes / 4 };
  } catch (e) {
    await model.close().catch(() => undefined);
    await data?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (dataTmp) await rm(dataTmp, { force: true });
    throw e;
  }
}
