/**
 * The few pieces of ONNX's protobuf encoding that a run needs before its
 * model is open, written out so that start-up does not load protobufjs (about
 * 40 ms): varints for the skeleton reader, the external-data names, and
 * metadata_props. Anything more goes through onnx-proto (onnx-info.ts,
 * generate/graph.ts), loaded when first used.
 */

/** A protobuf varint (unsigned, exact up to 2^53). */
export function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Where a model written to `path` keeps its weights when they go outside it. */
export function externalDataPath(path: string): string {
  return `${path}.data`;
}

/**
 * Metadata key of a model whose weights are in externalDataPath(): that
 * file's size in bytes, so that a cache can tell a missing or cut weights
 * file from a whole one without opening onnxruntime.
 */
export const EXTERNAL_DATA_BYTES_KEY = 'depth_video.external_data_bytes';

/** ModelProto.metadata_props and StringStringEntryProto's key and value (onnx.proto). */
const METADATA_PROPS = 14;
const KEY = 1;
const VALUE = 2;

/** Walks a message's fields: `onField(field, body)` for length-delimited ones, the rest skipped. Throws where it is not protobuf. */
function fields(bytes: Uint8Array, onField: (field: number, body: Uint8Array) => void): void {
  let pos = 0;
  const next = (): number => {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw new Error(`it ends inside a field at byte ${pos}`);
      const b = bytes[pos++]!;
      value += (b & 0x7f) * mul;
      if (b < 0x80) return value;
      mul *= 128;
    }
    throw new Error(`bad varint at byte ${pos}`);
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = next();
    const wire = tag % 8;
    if (wire === 0) next();
    else if (wire === 1 || wire === 5) pos += wire === 1 ? 8 : 4;
    else if (wire === 2) {
      const len = next();
      if (pos + len > bytes.length) throw new Error(`field ${Math.floor(tag / 8)} at byte ${start} runs past the end`);
      onField(Math.floor(tag / 8), bytes.subarray(pos, pos + len));
      pos += len;
    } else throw new Error(`wire type ${wire} at byte ${start}`);
    if (pos > bytes.length) throw new Error(`field ${Math.floor(tag / 8)} at byte ${start} runs past the end`);
  }
}

const utf8 = new TextDecoder();

/** The metadata_props of an encoded ModelProto (later entries win, as protobufjs reads them into an object). */
export function decodeMetadataProps(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  fields(model, (field, body) => {
    if (field !== METADATA_PROPS) return;
    let key = '';
    let value = '';
    fields(body, (f, b) => {
      if (f === KEY) key = utf8.decode(b);
      else if (f === VALUE) value = utf8.decode(b);
    });
    out[key] = value;
  });
  return out;
}
