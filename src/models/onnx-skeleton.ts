import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { varint } from './onnx-wire.js';

/**
 * An ONNX file's ModelProto without its weights, read with positioned reads.
 *
 * A converted ViT-L is 1.3 GB, nearly all of it initializer values that
 * nothing but onnxruntime needs; loading the file to read its interface cost
 * that much memory on every session open and every `models info`. Protobuf
 * frames every message with its length, so the file is walked field by field:
 * the fields kept are copied, tensor values above a few bytes are seeked over
 * unread, and each message on the way down (model, graph, node, attribute,
 * tensor) is re-framed with its new length. The result is a valid, small
 * ModelProto that protobufjs decodes as usual, equal to the whole file's
 * decoding except for the values left out.
 */

/** Which fields of a message to walk into, which hold tensor values, and whether to keep only some. */
interface Rule {
  /** Length-delimited fields that are messages to prune in turn. */
  readonly children: Map<number, Rule>;
  /** Length-delimited fields holding tensor values: dropped when longer than the kept size. */
  readonly values: ReadonlySet<number>;
  /** When set, every other field is skipped. */
  readonly only?: ReadonlySet<number>;
}

const rule = (values: number[] = [], only?: number[]): Rule => ({ children: new Map(), values: new Set(values), only: only && new Set(only) });

// Field numbers from onnx.proto. Graphs nest in attributes (If/Loop bodies) and in training info.
/** TensorProto: float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data. */
const TENSOR = rule([4, 5, 6, 7, 9, 10, 11]);
const SPARSE_TENSOR = rule();
SPARSE_TENSOR.children.set(1, TENSOR).set(2, TENSOR);
const GRAPH = rule();
const ATTRIBUTE = rule();
ATTRIBUTE.children.set(5, TENSOR).set(6, GRAPH).set(10, TENSOR).set(11, GRAPH).set(22, SPARSE_TENSOR).set(23, SPARSE_TENSOR);
const NODE = rule();
NODE.children.set(5, ATTRIBUTE);
GRAPH.children.set(1, NODE).set(5, TENSOR).set(15, SPARSE_TENSOR);
const FUNCTION = rule();
FUNCTION.children.set(7, NODE);
const TRAINING_INFO = rule();
TRAINING_INFO.children.set(1, GRAPH).set(2, GRAPH);
const MODEL = rule();
MODEL.children.set(7, GRAPH).set(20, TRAINING_INFO).set(25, FUNCTION);
/** ModelProto with nothing but metadata_props. */
const MODEL_METADATA = rule([], [14]);

/** Graphs nest in attributes; a file nesting deeper than this is not a model anyone exported. */
const MAX_DEPTH = 64;
const CHUNK = 64 * 1024;

/** Reads a file at a moving position through one reused window. */
class Cursor {
  pos = 0;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private bufStart = 0;
  private bufEnd = 0;

  constructor(private readonly fd: number, readonly size: number) {}

  private byte(): number {
    if (this.pos >= this.size) throw new Error(`it ends inside a field at byte ${this.pos}`);
    if (this.pos < this.bufStart || this.pos >= this.bufEnd) {
      this.bufStart = this.pos;
      this.bufEnd = this.pos + readSync(this.fd, this.buf, 0, CHUNK, this.pos);
      if (this.bufEnd <= this.pos) throw new Error(`it ends early at byte ${this.pos}`);
    }
    return this.buf[this.pos++ - this.bufStart]!;
  }

  /** An unsigned varint; exact up to 2^53, which every length and tag here is below. */
  varint(): number {
    const at = this.pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      value += (b & 0x7f) * mul;
      if (b < 0x80) return value;
      mul *= 128;
    }
    throw new Error(`bad varint at byte ${at}`);
  }

  /** Bytes [from, to) of the file. */
  slice(from: number, to: number): Uint8Array {
    // A copy: the window is overwritten by later reads (Buffer#slice would be a view).
    if (from >= this.bufStart && to <= this.bufEnd) return new Uint8Array(this.buf.subarray(from - this.bufStart, to - this.bufStart));
    const out = Buffer.allocUnsafe(to - from);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, from + done);
      if (n === 0) throw new Error(`it ends early at byte ${from + done}`);
      done += n;
    }
    return out;
  }
}

/** A message being rebuilt: its pieces in order and their total length. */
interface Built {
  readonly pieces: Uint8Array[];
  length: number;
}

function push(into: Built, piece: Uint8Array): void {
  into.pieces.push(piece);
  into.length += piece.length;
}

/** Copies the message in [cursor.pos, end) into `into`, pruned by `r`. */
function prune(c: Cursor, end: number, r: Rule, keepValues: number, into: Built, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error(`messages nest more than ${MAX_DEPTH} deep`);
  while (c.pos < end) {
    const start = c.pos;
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let bodyEnd: number;
    if (wire === 0) {
      c.varint();
      bodyEnd = c.pos;
    } else if (wire === 1 || wire === 5) {
      bodyEnd = c.pos + (wire === 1 ? 8 : 4);
    } else if (wire === 2) {
      const len = c.varint();
      bodyEnd = c.pos + len;
      if (bodyEnd > end) throw new Error(`field ${field} at byte ${start} runs past the end of its message`);
      const child = r.only && !r.only.has(field) ? undefined : r.children.get(field);
      if (child) {
        const sub: Built = { pieces: [], length: 0 };
        prune(c, bodyEnd, child, keepValues, sub, depth + 1);
        push(into, varint(tag));
        push(into, varint(sub.length));
        for (const p of sub.pieces) push(into, p);
        continue;
      }
      if (r.values.has(field) && len > keepValues) {
        c.pos = bodyEnd;
        continue;
      }
    } else {
      throw new Error(`wire type ${wire} at byte ${start}`);
    }
    if (bodyEnd > end) throw new Error(`field ${field} at byte ${start} runs past the end of its message`);
    c.pos = bodyEnd;
    if (!r.only || r.only.has(field)) push(into, c.slice(start, bodyEnd));
  }
  if (c.pos !== end) throw new Error(`a field runs past the end of its message at byte ${end}`);
}

function readPruned(path: string, r: Rule, keepValues: number): { bytes: Uint8Array; fileBytes: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const c = new Cursor(fd, size);
    const out: Built = { pieces: [], length: 0 };
    prune(c, size, r, keepValues, out, 0);
    return { bytes: Buffer.concat(out.pieces, out.length), fileBytes: size };
  } finally {
    closeSync(fd);
  }
}

/**
 * The ModelProto of `path` with every tensor's values left out when they
 * take more than `keepValueBytes` bytes (small constants stay, for what
 * reads them: in-graph normalisation). Throws a plain Error saying where the
 * file stops being a protobuf message.
 */
export function readModelSkeleton(path: string, keepValueBytes: number): { bytes: Uint8Array; fileBytes: number } {
  return readPruned(path, MODEL, keepValueBytes);
}

/** A ModelProto holding only the file's metadata_props: the graph is seeked over. */
export function readModelMetadataOnly(path: string): Uint8Array {
  return readPruned(path, MODEL_METADATA, 0).bytes;
}
