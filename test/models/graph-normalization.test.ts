import onnx from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { float32ToFloat16Array } from '../../src/inference/float16.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { describeInGraphNormalization } from '../../src/models/graph-normalization.js';
import { decodeOnnxInfo, detectFamily } from '../../src/models/onnx-info.js';
import { IMAGENET_MEAN, IMAGENET_STD, midasStyleModel } from './helpers.js';

/** Builds `input -> prefix -> channel sum -> depth` and returns what onnx-info detects. */
function detect(prefix: (g: GraphBuilder, x: string) => string, inputDims: (number | string)[] = [1, 3, 'H', 'W']) {
  const g = new GraphBuilder('t');
  const x = g.input('image', inputDims);
  const y = prefix(g, x);
  const depth = g.op('ReduceSum', [y, g.constI64([1])], { keepdims: 0 });
  g.output(depth, 'depth', [1, 'H', 'W']);
  return decodeOnnxInfo(g.toBytes(), 't.onnx').inputNormalization;
}

function expectClose(got: readonly number[] | undefined, want: readonly number[], digits = 5): void {
  // Length first: forEach over a short or empty array would check nothing.
  expect(got?.length).toBe(want.length);
  got!.forEach((v, i) => expect(v).toBeCloseTo(want[i], digits));
}

const NCHW = [1, 3, 1, 1];

describe('in-graph normalisation', () => {
  it('Sub then Div by Constant nodes shaped [1,3,1,1]: ImageNet in 0..1 units, fed as RGB/255', () => {
    const n = detect((g, x) => g.op('Div', [g.op('Sub', [x, g.constF(IMAGENET_MEAN, NCHW)]), g.constF(IMAGENET_STD, NCHW)]));
    expectClose(n?.mean, IMAGENET_MEAN);
    expectClose(n?.std, IMAGENET_STD);
    expect(n?.inputScale).toBe(1);
    expect(n?.ops).toEqual(['Sub', 'Div']);
    expect(describeInGraphNormalization(n!)).toBe(
      'in the graph (mean 0.485,0.456,0.406 / std 0.229,0.224,0.225, Sub then Div) — frames are fed as RGB/255',
    );
  });

  it('the same with initializers shaped [3,1,1]', () => {
    const n = detect((g, x) => g.op('Div', [g.op('Sub', [x, g.param('mean', [3, 1, 1], Float32Array.from(IMAGENET_MEAN))]), g.param('std', [3, 1, 1], Float32Array.from(IMAGENET_STD))]));
    expectClose(n?.mean, IMAGENET_MEAN);
    expectClose(n?.std, IMAGENET_STD);
  });

  it('Mul then Add (x/std - mean/std), constants on either side', () => {
    const scale = IMAGENET_STD.map((s) => 1 / s);
    const shift = IMAGENET_MEAN.map((m, i) => -m / IMAGENET_STD[i]);
    const n = detect((g, x) => g.op('Add', [g.constF(shift, NCHW), g.op('Mul', [g.constF(scale, NCHW), x])]));
    expectClose(n?.mean, IMAGENET_MEAN);
    expectClose(n?.std, IMAGENET_STD);
    expect(n?.ops).toEqual(['Mul', 'Add']);
  });

  it('a Div by 255 in front means the graph wants RGB as 0..255', () => {
    const n = detect((g, x) => {
      const s = g.op('Div', [x, g.constF([255], [])]);
      return g.op('Div', [g.op('Sub', [s, g.constF(IMAGENET_MEAN, NCHW)]), g.constF(IMAGENET_STD, NCHW)]);
    });
    expect(n?.inputScale).toBe(255);
    expectClose(n?.mean, IMAGENET_MEAN.map((m) => m * 255), 3);
    expectClose(n?.std, IMAGENET_STD.map((s) => s * 255), 3);
    expect(describeInGraphNormalization(n!)).toMatch(/mean 123\.675,116\.28,103\.53 \/ std 58\.395,57\.12,57\.375 on 0\.\.255 values.*fed as RGB 0\.\.255/);
    const only = detect((g, x) => g.op('Mul', [x, g.constF([1 / 255], [1])]));
    expect(only?.inputScale).toBe(255);
    expectClose(only?.mean, [0, 0, 0]);
  });

  it('a Mul by 255 in front of 0..255 constants still means RGB/255 in', () => {
    const n = detect((g, x) => {
      const s = g.op('Mul', [x, g.constF([255], [])]);
      return g.op('Div', [g.op('Sub', [s, g.constF(IMAGENET_MEAN.map((m) => m * 255), NCHW)]), g.constF(IMAGENET_STD.map((v) => v * 255), NCHW)]);
    });
    expect(n?.inputScale).toBe(1);
    expectClose(n?.mean, IMAGENET_MEAN);
  });

  it('torch-style constants: [3] Constants unsqueezed or reshaped to [1,3,1,1]', () => {
    const n = detect((g, x) => {
      const m = g.op('Unsqueeze', [g.constF(IMAGENET_MEAN, [3]), g.constI64([0, 2, 3])]);
      const s = g.op('Reshape', [g.constF(IMAGENET_STD, [3]), g.constI64([1, -1, 1, 1])]);
      return g.op('Div', [g.op('Sub', [x, m]), s]);
    });
    expectClose(n?.mean, IMAGENET_MEAN);
    expectClose(n?.std, IMAGENET_STD);
  });

  it('an fp16 graph kept with float32 I/O: through the Cast, with fp16-rounded constants', () => {
    const n = detect((g, x) => {
      const h = g.op('Cast', [x], { to: 10 });
      const c = (v: number[]) =>
        g.node('Constant', [], {
          constValue: { name: 'value', dims: NCHW, dataType: 10, rawData: new Uint8Array(float32ToFloat16Array(Float32Array.from(v)).buffer) },
        })[0];
      return g.op('Cast', [g.op('Div', [g.op('Sub', [h, c(IMAGENET_MEAN)]), c(IMAGENET_STD)])], { to: 1 });
    });
    expectClose(n?.mean, IMAGENET_MEAN, 3);
    expectClose(n?.std, IMAGENET_STD, 3);
    expect(n?.mean[0]).toBeCloseTo(0.485107421875, 10); // 0.485 as a half, 1987 * 2^-12
  });

  it('a [3] constant lines up with the width in NCHW, so it is per channel only after a Transpose to NHWC', () => {
    expect(detect((g, x) => g.op('Sub', [x, g.constF(IMAGENET_MEAN, [3])]), [1, 3, 8, 3])).toBeNull();
    const n = detect((g, x) => {
      const nhwc = g.op('Transpose', [x], { perm: [0, 2, 3, 1] });
      const norm = g.op('Div', [g.op('Sub', [nhwc, g.constF(IMAGENET_MEAN, [3])]), g.constF(IMAGENET_STD, [1, 1, 3])]);
      return g.op('Transpose', [norm], { perm: [0, 3, 1, 2] });
    });
    expectClose(n?.mean, IMAGENET_MEAN);
    expectClose(n?.std, IMAGENET_STD);
  });

  it('no normalisation, a non-constant operand, or an input used twice: nothing detected', () => {
    expect(detect((g, x) => g.op('Conv', [x, g.param('w', [3, 3, 1, 1], new Float32Array(9).fill(0.1))]))).toBeNull();
    expect(detect((g, x) => g.op('Sub', [x, g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 1 })]))).toBeNull();
    expect(detect((g, x) => g.op('Add', [g.op('Sub', [x, g.constF(IMAGENET_MEAN, NCHW)]), x]))).toBeNull();
    // x / c with c per pixel (not per channel) is not a normalisation either.
    expect(detect((g, x) => g.op('Div', [x, g.constF(new Array(12).fill(2), [1, 3, 2, 2])]), [1, 3, 2, 2])).toBeNull();
  });

  it('detectFamily feeds RGB/255 to a MiDaS v2.1 style graph whatever its name or manifest entry says', () => {
    for (const name of ['midas-v21-small-256.onnx', 'model-small.onnx', 'renamed.onnx']) {
      const info = decodeOnnxInfo(midasStyleModel(), name);
      const d = detectFamily(info, name);
      expect(d.spec.mean, name).toEqual([0, 0, 0]);
      expect(d.spec.std, name).toEqual([1, 1, 1]);
      expect([d.spec.width, d.spec.height]).toEqual([256, 256]);
    }
    const plain = decodeOnnxInfo(midasStyleModel({ normalise: false }), 'model-small.onnx');
    expect(detectFamily(plain, 'model-small.onnx').spec.mean).toEqual(IMAGENET_MEAN);
  });

  it('the manifest feeds the official MiDaS v2.1 files RGB/255 by itself, even if detection found nothing', () => {
    for (const [name, size] of [['midas-v21-small-256', 256], ['midas-v21-384', 384]] as const) {
      const info = decodeOnnxInfo(midasStyleModel({ normalise: false, size }), `${name}.onnx`);
      const d = detectFamily(info, `${name}.onnx`);
      expect(d.source).toBe('manifest');
      expect([d.spec.mean, d.spec.std]).toEqual([[0, 0, 0], [1, 1, 1]]);
    }
  });

  it('encodes as a proper ModelProto (the helper graph is what onnxruntime would load)', () => {
    const m = onnx.onnx.ModelProto.decode(midasStyleModel());
    expect(m.graph?.input?.[0].name).toBe('0');
    expect(m.graph?.node?.slice(0, 4).map((n) => n.opType)).toEqual(['Constant', 'Sub', 'Constant', 'Div']);
  });
});
