import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import onnx from 'onnx-proto';

/** ModelProto field numbers (onnx.proto). */
const METADATA_PROPS = 14;

/**
 * metadata_props of an ONNX file, read without loading the graph: top-level
 * fields are walked and the large ones (the graph) are seeked over, so this
 * costs a few small reads even for a 100 MB model. Throws on a file that is
 * not a well-formed protobuf message.
 */
export function readOnnxMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out: Record<string, string> = {};
    let pos = 0;
    while (pos < size) {
      const [tag, afterTag] = readVarint(fd, pos);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === 0) pos = readVarint(fd, afterTag)[1];
      else if (wire === 1) pos = afterTag + 8;
      else if (wire === 5) pos = afterTag + 4;
      else if (wire === 2) {
        const [len, start] = readVarint(fd, afterTag);
        if (start + len > size) throw new Error(`${path}: field ${field} runs past the end of the file`);
        if (field === METADATA_PROPS) {
          const buf = Buffer.alloc(len);
          readSync(fd, buf, 0, len, start);
          const e = onnx.onnx.StringStringEntryProto.decode(buf);
          out[e.key] = e.value;
        }
        pos = start + len;
      } else throw new Error(`${path}: not an ONNX model (wire type ${wire} at byte ${pos})`);
    }
    if (pos !== size) throw new Error(`${path}: truncated ONNX model`);
    return out;
  } finally {
    closeSync(fd);
  }
}

function readVarint(fd: number, pos: number): [number, number] {
  const buf = Buffer.alloc(10);
  const n = readSync(fd, buf, 0, 10, pos);
  let value = 0;
  let mul = 1;
  for (let i = 0; i < n; i++) {
    const b = buf[i];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos + i + 1];
    mul *= 128;
  }
  throw new Error(`bad varint at byte ${pos}`);
}
