import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnx from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAnalyticModel } from '../../src/inference/generate/analytic.js';
import { buildDptModel } from '../../src/inference/generate/dpt/build.js';
import { DPT_CONFIGS } from '../../src/inference/generate/dpt/config.js';
import { metadataField } from '../../src/inference/generate/graph.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';
import { DT, EXTERNAL_DATA } from '../../src/models/graph-normalization.js';
import { decodeMetadataProps, varint } from '../../src/models/onnx-wire.js';
import { tempDir } from '../helpers/media.js';

const dir = tempDir('dv-wire-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** protobufjs' reading of metadata_props: the reference for the hand-written one. */
function byProtobufjs(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of onnx.onnx.ModelProto.decode(bytes).metadataProps ?? []) out[p.key ?? ''] = p.value ?? '';
  return out;
}

describe('ONNX wire format without protobufjs', () => {
  it('metadata_props of whole models read as protobufjs reads them', () => {
    const models = [buildAnalyticModel(), buildAnalyticModel({ slowOps: 1 }), buildDptModel(DPT_CONFIGS['dpt-tiny']).bytes];
    for (const m of models) {
      const meta = decodeMetadataProps(m);
      expect(Object.keys(meta).length).toBeGreaterThan(1);
      expect(meta).toEqual(byProtobufjs(m));
    }
  });

  it('entries appended by hand, repeated keys, empty values and non-ASCII text read as protobufjs reads them', () => {
    const parts = [
      buildAnalyticModel(),
      metadataField('depth_video.note', 'Tiefe · 深度 · ok'),
      metadataField('depth_video.family', 'replaced'),
      metadataField('', 'no key'),
      metadataField('empty', ''),
      // A field other than metadata_props after them (ModelProto.doc_string, 6).
      Uint8Array.from([(6 << 3) | 2, 3, 0x61, 0x62, 0x63]),
      // A varint field (model_version, 5) and a 64-bit one (unknown field 99, wire type 1).
      Uint8Array.from([5 << 3, 0x96, 0x01]), Uint8Array.from([...varint((99 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8]),
    ];
    const bytes = Buffer.concat(parts);
    const meta = decodeMetadataProps(bytes);
    expect(meta['depth_video.note']).toBe('Tiefe · 深度 · ok');
    expect(meta['depth_video.family']).toBe('replaced');
    expect(meta['']).toBe('no key');
    expect(meta.empty).toBe('');
    expect(meta).toEqual(byProtobufjs(bytes));
  });

  it('readOnnxMetadata reads the file through the skeleton reader and the hand decoder alike', () => {
    const path = join(dir, 'm.onnx');
    const bytes = Buffer.concat([buildAnalyticModel(), metadataField('k', 'v')]);
    writeFileSync(path, bytes);
    expect(readOnnxMetadata(path)).toEqual(byProtobufjs(bytes));
  });

  it('bytes that are not protobuf are refused, saying where', () => {
    const good = metadataField('key', 'value');
    expect(() => decodeMetadataProps(good.subarray(0, good.length - 2))).toThrow(/runs past the end/);
    expect(() => decodeMetadataProps(Uint8Array.from([(14 << 3) | 3]))).toThrow('wire type 3 at byte 0');
    expect(() => decodeMetadataProps(Uint8Array.from([0x80, 0x80]))).toThrow(/ends inside a field/);
    expect(() => decodeMetadataProps(Uint8Array.from([(1 << 3) | 1, 1, 2]))).toThrow(/runs past the end/);
  });

  it('the data type numbers written out for graph-normalization.ts are onnx.proto\'s', () => {
    const E = onnx.onnx.TensorProto.DataType;
    expect(DT).toEqual({ FLOAT: E.FLOAT, INT32: E.INT32, INT64: E.INT64, FLOAT16: E.FLOAT16, DOUBLE: E.DOUBLE, BFLOAT16: E.BFLOAT16 });
    expect(EXTERNAL_DATA).toBe(onnx.onnx.TensorProto.DataLocation.EXTERNAL);
  });
});
