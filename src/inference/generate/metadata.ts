import { readModelMetadataOnly } from '../../models/onnx-skeleton.js';
import { decodeMetadataProps } from '../../models/onnx-wire.js';

/**
 * metadata_props of an ONNX file, read without loading the graph: top-level
 * fields are walked and the large ones (the graph) are seeked over, so this
 * costs a few small reads even for a 100 MB model. Throws on a file that is
 * not a well-formed protobuf message.
 */
export function readOnnxMetadata(path: string): Record<string, string> {
  let bytes: Uint8Array;
  try {
    bytes = readModelMetadataOnly(path);
  } catch (e) {
    if ((e as { code?: string }).code !== undefined) throw e;
    throw new Error(`${path}: not an ONNX model (${(e as Error).message})`);
  }
  return decodeMetadataProps(bytes);
}
