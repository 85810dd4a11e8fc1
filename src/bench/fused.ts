/**
 * Would per-pixel work pay on the inference device? The pre- and
 * post-processing the pipeline runs in the WebAssembly kernels, written as
 * small ONNX graphs and run by onnxruntime on a given device, against the
 * kernels, on the same data:
 *
 * - post: prediction at inference size -> upsample to the frame (the
 *   model's interpolation) -> normalise by (lo, hi) -> colour-table index ->
 *   Gather from the 256-entry table packed as int32 RGB -> unpacked to RGB24
 *   here (the encoder takes RGB24). The stabiliser's lo/hi come from the
 *   prediction on the CPU, so the prediction crosses back either way; what
 *   would stay on the device is the frame-size work.
 * - pre: RGB24 frame -> float CHW -> resize to the network size ->
 *   mean/std, against imageToTensor.
 *
 * Each graph's first run (shader compilation on WebGPU) is reported apart.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, float, type Attrs } from '../inference/generate/graph.js';
import { imageToTensor } from '../inference/preprocess.js';
import { applyColormap, getColormap } from '../render/colormap.js';
import { resizeAndNormalize } from '../render/resize.js';
import type { Interpolation, PreprocessSpec } from '../types.js';

export interface FusedRow {
  readonly stage: 'pre' | 'post';
  readonly frame: string;
  readonly net: string;
  readonly device: string;
  readonly kernelsMs: number;
  readonly graphMs: number;
  readonly firstRunMs: number;
  /** Largest difference between graph and kernels: RGB levels (post), tensor values (pre). */
  readonly maxDiff: number;
}

/** ONNX Resize attributes for PyTorch's F.interpolate(mode, align_corners). */
function resizeAttrs(method: Interpolation, alignCorners: boolean): Attrs {
  return {
    mode: method === 'bicubic' ? 'cubic' : 'linear',
    coordinate_transformation_mode: alignCorners ? 'align_corners' : 'pytorch_half_pixel',
    cubic_coeff_a: float(-0.75),
  };
}

function postGraph(inW: number, inH: number, outW: number, outH: number, method: Interpolation, alignCorners: boolean): Uint8Array {
  const g = new GraphBuilder('post');
  const depth = g.input('depth', [1, inH, inW]);
  const range = g.input('range', [2]); // lo, 1 / (hi - lo)
  const [lo, inv] = g.node('Split', [range], { attrs: { axis: 0 }, count: 2 });
  const x4 = g.op('Unsqueeze', [depth, g.constI64([0])]);
  const up = g.node('Resize', [x4, '', '', g.constI64([1, 1, outH, outW])], { attrs: resizeAttrs(method, alignCorners) })[0]!;
  const unit = g.op('Clip', [g.op('Mul', [g.op('Sub', [up, lo]), inv]), g.constF([0], []), g.constF([1], [])]);
  const index = g.op('Cast', [g.op('Floor', [g.op('Add', [g.op('Mul', [unit, g.constF([255], [])]), g.constF([0.5], [])])])], { to: 6 });
  const lut = getColormap('inferno');
  const packed = Array.from({ length: 256 }, (_, k) => lut[k * 3]! | (lut[k * 3 + 1]! << 8) | (lut[k * 3 + 2]! << 16));
  // Packed colours are below 2^24, exact in float32.
  const table = g.op('Cast', [g.constF(packed, [256])], { to: 6 });
  const rgbx = g.node('Gather', [table, g.op('Reshape', [index, g.constI64([outH, outW])])], { attrs: { axis: 0 } })[0]!;
  g.output(rgbx, 'rgbx', [outH, outW], 'int32');
  return g.toBytes();
}

function preGraph(frameW: number, frameH: number, spec: PreprocessSpec, netW: number, netH: number): Uint8Array {
  const g = new GraphBuilder('pre');
  const rgb = g.input('rgb', [frameH, frameW, 3], 'uint8');
  const chw = g.op('Unsqueeze', [g.op('Transpose', [g.op('Cast', [rgb], { to: 1 })], { perm: [2, 0, 1] }), g.constI64([0])]);
  const resized = g.node('Resize', [chw, '', '', g.constI64([1, 3, netH, netW])], { attrs: resizeAttrs(spec.inputInterpolation, false) })[0]!;
  const scale = g.constF(spec.std.map((s) => 1 / (255 * s)), [1, 3, 1, 1]);
  const shift = g.constF(spec.mean.map((m, i) => m / spec.std[i]!), [1, 3, 1, 1]);
  g.output(g.op('Sub', [g.op('Mul', [resized, scale]), shift]), 'tensor', [1, 3, netH, netW]);
  return g.toBytes();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function timeSync(fn: () => void, runs: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function timeGraph(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, after: (out: ort.InferenceSession.OnnxValueMapType) => void, runs: number): Promise<{ first: number; ms: number }> {
  let t0 = performance.now();
  after(await session.run(feeds));
  const first = performance.now() - t0;
  after(await session.run(feeds));
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    after(await session.run(feeds));
    t.push(performance.now() - t0);
  }
  return { first, ms: median(t) };
}

function syntheticFrame(w: number, h: number): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0, i = 0; y < h; y++) for (let x = 0; x < w; x++, i += 3) {
    data[i] = (x * 3 + y) & 255;
    data[i + 1] = (x ^ y) & 255;
    data[i + 2] = (y * 5) & 255;
  }
  return data;
}

/**
 * Times pre and post both ways for each frame size, on each device given.
 * `net(w, h)` is the model's input size for a frame.
 */
export async function fusedBench(
  devices: readonly string[],
  spec: PreprocessSpec,
  net: (w: number, h: number) => { width: number; height: number },
  frames: readonly (readonly [number, number])[],
  runs: number,
): Promise<FusedRow[]> {
  const rows: FusedRow[] = [];
  const lut = getColormap('inferno');
  for (const [fw, fh] of frames) {
    const { width: nw, height: nh } = net(fw, fh);
    const depth = new Float32Array(nw * nh);
    for (let i = 0; i < depth.length; i++) depth[i] = 5 + Math.sin(i * 0.0013) * 3;
    const [lo, hi] = [2.5, 7.5];
    const unit = new Float32Array(fw * fh);
    const rgbKernels = new Uint8Array(fw * fh * 3);
    const postKernels = timeSync(() => {
      resizeAndNormalize({ width: nw, height: nh, data: depth }, fw, fh, spec.outputInterpolation, spec.outputAlignCorners, lo, hi, unit);
      applyColormap(unit, lut, rgbKernels);
    }, runs);
    const rgb = syntheticFrame(fw, fh);
    const tensorKernels = new Float32Array(3 * nw * nh);
    const image = { width: fw, height: fh, data: rgb };
    const preKernels = timeSync(() => imageToTensor(image, spec, { width: nw, height: nh }, tensorKernels), runs);
    const rgbGraph = new Uint8Array(fw * fh * 3);
    let tensorGraph: Float32Array = tensorKernels;

    for (const device of devices) {
      const opts: ort.InferenceSession.SessionOptions = { executionProviders: [device], logSeverityLevel: 3 };
      const post = await ort.InferenceSession.create(postGraph(nw, nh, fw, fh, spec.outputInterpolation, spec.outputAlignCorners), opts);
      const postT = await timeGraph(post, {
        depth: new ort.Tensor('float32', depth, [1, nh, nw]),
        range: new ort.Tensor('float32', Float32Array.from([lo, 1 / (hi - lo)]), [2]),
      }, (out) => {
        const px = out.rgbx!.data as Int32Array;
        for (let i = 0, j = 0; i < px.length; i++, j += 3) {
          const p = px[i]!;
          rgbGraph[j] = p;
          rgbGraph[j + 1] = p >> 8;
          rgbGraph[j + 2] = p >> 16;
        }
      }, runs);
      await post.release();
      let postDiff = 0;
      for (let i = 0; i < rgbGraph.length; i++) postDiff = Math.max(postDiff, Math.abs(rgbGraph[i]! - rgbKernels[i]!));
      rows.push({ stage: 'post', frame: `${fw}x${fh}`, net: `${nw}x${nh}`, device, kernelsMs: postKernels, graphMs: postT.ms, firstRunMs: postT.first, maxDiff: postDiff });

      const pre = await ort.InferenceSession.create(preGraph(fw, fh, spec, nw, nh), opts);
      const preT = await timeGraph(pre, { rgb: new ort.Tensor('uint8', rgb, [fh, fw, 3]) }, (out) => { tensorGraph = out.tensor!.data as Float32Array; }, runs);
      await pre.release();
      let preDiff = 0;
      for (let i = 0; i < tensorGraph.length; i++) preDiff = Math.max(preDiff, Math.abs(tensorGraph[i]! - tensorKernels[i]!));
      rows.push({ stage: 'pre', frame: `${fw}x${fh}`, net: `${nw}x${nh}`, device, kernelsMs: preKernels, graphMs: preT.ms, firstRunMs: preT.first, maxDiff: preDiff });
    }
  }
  return rows;
}
