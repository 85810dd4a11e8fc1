import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnx from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToFloat16Array } from '../../src/inference/float16.js';
import { analyticSpec } from '../../src/inference/generate/analytic.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { mulberry32, normalArray } from '../../src/inference/generate/random.js';
import { DepthSession } from '../../src/inference/session.js';
import { readOnnxInfo } from '../../src/models/onnx-info.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../models/helpers.js';

const T = onnx.onnx.TensorProto.DataType;
const dir = mkdtempSync(join(tmpdir(), 'dv-fp16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small float32 network: in-graph normalisation, 3x3 conv, ReLU, 1x1 conv to depth. */
function float32Net(): Uint8Array {
  const rng = mulberry32(7);
  const g = new GraphBuilder('twin');
  const x = g.input('pixel_values', [1, 3, 'H', 'W']);
  const n = g.op('Div', [g.op('Sub', [x, g.constF(IMAGENET_MEAN, [1, 3, 1, 1])]), g.constF(IMAGENET_STD, [1, 3, 1, 1])]);
  const c1 = g.op('Conv', [n, g.param('w1', [8, 3, 3, 3], normalArray(rng, 216, 0.3)), g.param('b1', [8], normalArray(rng, 8, 0.1))], { pads: [1, 1, 1, 1] });
  const c2 = g.op('Conv', [g.op('Relu', [c1]), g.param('w2', [1, 8, 1, 1], normalArray(rng, 8, 0.5))]);
  g.output(g.op('Squeeze', [c2, g.constI64([1])]), 'predicted_depth', [1, 'H', 'W']);
  return g.toBytes({ metadata: { 'depth_video.spec': JSON.stringify(analyticSpec()) } });
}

/**
 * What onnxconverter-common's convert_float_to_float16(keep_io_types=False)
 * does to such a graph: every float tensor, constant and graph I/O becomes float16.
 */
function toFloat16(bytes: Uint8Array): Uint8Array {
  const m = onnx.onnx.ModelProto.decode(bytes);
  const half = (t: onnx.onnx.ITensorProto): void => {
    if (t.dataType !== T.FLOAT) return;
    const raw = t.rawData!;
    const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    t.rawData = new Uint8Array(float32ToFloat16Array(f).buffer);
    t.dataType = T.FLOAT16;
  };
  for (const t of m.graph!.initializer ?? []) half(t);
  for (const node of m.graph!.node ?? []) for (const a of node.attribute ?? []) if (a.t) half(a.t);
  for (const v of [...(m.graph!.input ?? []), ...(m.graph!.output ?? [])]) v.type!.tensorType!.elemType = T.FLOAT16;
  return onnx.onnx.ModelProto.encode(m).finish();
}

describe('a float16-I/O graph', () => {
  it('runs through DepthSession and matches its float32 twin within fp16 precision', async () => {
    const f32 = join(dir, 'twin-fp32.onnx');
    const f16 = join(dir, 'twin-fp16.onnx');
    writeFileSync(f32, float32Net());
    writeFileSync(f16, toFloat16(float32Net()));
    const info = await readOnnxInfo(f16);
    expect(info.inputs[0].elemType).toBe('float16');
    expect(info.outputs[0].elemType).toBe('float16');
    // The normalisation is found in the fp16 graph too, so both get RGB/255.
    expect(info.inputNormalization?.inputScale).toBe(1);

    const W = 40;
    const H = 30;
    const rng = mulberry32(3);
    const img = { width: W, height: H, data: Uint8Array.from({ length: W * H * 3 }, () => Math.floor(rng() * 256)) };
    const a = await DepthSession.open(f32);
    const b = await DepthSession.open(f16);
    try {
      const ra = await a.infer(img);
      const rb = await b.infer(img);
      // Prepared on the main thread, as --sync does: the other path into the worker.
      const rc = await b.run(b.prepare(img));
      expect([rb.depth.width, rb.depth.height]).toEqual([W, H]);
      expect(rb.depth.data).toBeInstanceOf(Float32Array);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of ra.depth.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(hi - lo).toBeGreaterThan(1);
      let worst = 0;
      for (let i = 0; i < ra.depth.data.length; i++) {
        // fp16 keeps 11 significant bits: a few ulps of the largest activations.
        worst = Math.max(worst, Math.abs(ra.depth.data[i] - rb.depth.data[i]) / Math.max(1, Math.abs(ra.depth.data[i])));
      }
      expect(worst).toBeLessThan(1e-2);
      expect(worst).toBeGreaterThan(0); // it really ran in half precision
      expect(Array.from(rc.depth.data)).toEqual(Array.from(rb.depth.data));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
