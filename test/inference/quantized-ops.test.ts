import onnx from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { float16ToFloat32Array, float32ToFloat16Array } from '../../src/inference/float16.js';
import { mulberry32 } from '../../src/inference/generate/random.js';

/**
 * The quantized variants (model_quantized / int8 / uint8 / q4 / q4f16 / bnb4)
 * are ordinary ONNX apart from their operators. Each one they rely on is run
 * here on onnxruntime-node's CPU provider, in a one-node graph, against the
 * operator's published definition computed in TypeScript.
 */

const T = onnx.onnx.TensorProto.DataType;
type Dims = readonly number[];

function raw(name: string, dataType: number, dims: Dims, bytes: ArrayBufferView): onnx.onnx.ITensorProto {
  return { name, dataType, dims: [...dims], rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

function io(name: string, elemType: number, dims: Dims): onnx.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function model(opts: {
  nodes: onnx.onnx.INodeProto[];
  inits: onnx.onnx.ITensorProto[];
  inputs: onnx.onnx.IValueInfoProto[];
  outputs: onnx.onnx.IValueInfoProto[];
}): Uint8Array {
  return onnx.onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: { name: 'q', node: opts.nodes, initializer: opts.inits, input: opts.inputs, output: opts.outputs },
  }).finish();
}

function ints(name: string, i: number): onnx.onnx.IAttributeProto {
  return { name, type: onnx.onnx.AttributeProto.AttributeType.INT, i };
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const out = await s.run(feeds);
    return out[s.outputNames[0]!]!;
  } finally {
    await s.release();
  }
}

/** Y[m][n] = sum_k A[m][k] * W[n][k], in float64. */
function matmulT(a: Float32Array, w: Float64Array, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
    y[m * N + n] = s;
  }
  return y;
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst / scale;
}

const rng = mulberry32(99);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());

describe('operators of the quantized exports on onnxruntime-node CPU', () => {
  it('MatMulNBits (q4, q4f16): 4-bit blocks, low nibble first, default zero point 8', async () => {
    const M = 3, K = 64, N = 5, block = 32;
    const blocks = K / block;
    const codes = Uint8Array.from({ length: N * K }, () => Math.floor(rng() * 16));
    const scales = uniform(N * blocks, 0.01, 0.1);
    const packed = new Uint8Array(N * blocks * (block / 2));
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k += 2) packed[(n * K + k) / 2] = codes[n * K + k] | (codes[n * K + k + 1] << 4);
    const w = Float64Array.from({ length: N * K }, (_, i) => (codes[i] - 8) * scales[Math.floor(i / K) * blocks + Math.floor((i % K) / block)]);
    const a = uniform(M * K, -1, 1);
    const want = matmulT(a, w, M, N, K);
    for (const half of [false, true]) {
      const ft = half ? T.FLOAT16 : T.FLOAT;
      const sc = half ? float32ToFloat16Array(scales) : scales;
      const bytes = model({
        nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', input: ['A', 'B', 'scales'], output: ['Y'], attribute: [ints('K', K), ints('N', N), ints('bits', 4), ints('block_size', block)] }],
        inits: [raw('B', T.UINT8, [N, blocks, block / 2], packed), raw('scales', ft, [N * blocks], sc)],
        inputs: [io('A', ft, [M, K])],
        outputs: [io('Y', ft, [M, N])],
      });
      const feed = half ? new ort.Tensor('float16', float32ToFloat16Array(a), [M, K]) : new ort.Tensor('float32', a, [M, K]);
      const y = await run(bytes, { A: feed });
      const got = half ? float16ToFloat32Array(y.data as Uint16Array) : (y.data as Float32Array);
      // The scales are rounded to fp16 in the q4f16 case: a few fp16 ulps.
      expect(maxRelErr(got, want), half ? 'q4f16' : 'q4').toBeLessThan(half ? 1e-2 : 1e-5);
    }
  });

  it('MatMulBnb4 (bnb4): NF4 codes 0, 7 and 15 are -1, 0 and 1 times the block absmax, high nibble first', async () => {
    const M = 2, K = 64, N = 4, block = 64;
    const pick = [0, 7, 15];
    const codes = Uint8Array.from({ length: N * K }, () => pick[Math.floor(rng() * 3)]);
    const absmax = uniform((N * K) / block, 0.5, 2);
    const packed = new Uint8Array((N * K) / 2);
    for (let i = 0; i < N * K; i += 2) packed[i / 2] = (codes[i] << 4) | codes[i + 1];
    const nf4 = new Map([[0, -1], [7, 0], [15, 1]]);
    const w = Float64Array.from({ length: N * K }, (_, i) => nf4.get(codes[i])! * absmax[Math.floor(i / block)]);
    const a = uniform(M * K, -1, 1);
    const bytes = model({
      nodes: [{ opType: 'MatMulBnb4', domain: 'com.microsoft', input: ['A', 'B', 'absmax'], output: ['Y'], attribute: [ints('K', K), ints('N', N), ints('block_size', block), ints('quant_type', 1)] }],
      inits: [raw('B', T.UINT8, [(N * K) / 2], packed), raw('absmax', T.FLOAT, [absmax.length], absmax)],
      inputs: [io('A', T.FLOAT, [M, K])],
      outputs: [io('Y', T.FLOAT, [M, N])],
    });
    const y = await run(bytes, { A: new ort.Tensor('float32', a, [M, K]) });
    expect(maxRelErr(y.data as Float32Array, matmulT(a, w, M, N, K))).toBeLessThan(1e-5);
  });

  it('DynamicQuantizeLinear + MatMulInteger (quantized / uint8 / int8): within one quantization step of the float product', async () => {
    const M = 4, K = 32, N = 6;
    const a = uniform(M * K, -1, 1);
    for (const signed of [false, true]) {
      const wf = uniform(K * N, -0.5, 0.5); // [K, N], as MatMul takes it
      const wScale = 0.5 / 127;
      const wq = signed ? Int8Array.from(wf, (v) => Math.round(v / wScale)) : Uint8Array.from(wf, (v) => Math.round(v / wScale) + 128);
      const wZero = signed ? new Int8Array([0]) : new Uint8Array([128]);
      const bytes = model({
        nodes: [
          { opType: 'DynamicQuantizeLinear', input: ['A'], output: ['Aq', 'As', 'Az'] },
          { opType: 'MatMulInteger', input: ['Aq', 'W', 'Az', 'Wz'], output: ['Yi'] },
          { opType: 'Cast', input: ['Yi'], output: ['Yf'], attribute: [ints('to', T.FLOAT)] },
          { opType: 'Mul', input: ['As', 'Ws'], output: ['S'] },
          { opType: 'Mul', input: ['Yf', 'S'], output: ['Y'] },
        ],
        inits: [
          raw('W', signed ? T.INT8 : T.UINT8, [K, N], wq),
          raw('Wz', signed ? T.INT8 : T.UINT8, [], wZero),
          raw('Ws', T.FLOAT, [], new Float32Array([wScale])),
        ],
        inputs: [io('A', T.FLOAT, [M, K])],
        outputs: [io('Y', T.FLOAT, [M, N])],
      });
      const y = await run(bytes, { A: new ort.Tensor('float32', a, [M, K]) });
      const wT = Float64Array.from({ length: N * K }, (_, i) => wf[(i % K) * N + Math.floor(i / K)]);
      // A is quantized to 1/127.5 steps and W to 1/254: a few percent of the output range at most.
      expect(maxRelErr(y.data as Float32Array, matmulT(a, wT, M, N, K)), signed ? 'int8' : 'uint8').toBeLessThan(0.03);
    }
  });

  it('ConvInteger and DequantizeLinear: exact against their integer definitions', async () => {
    const C = 3, H = 5, W = 4, O = 2;
    const x = Uint8Array.from({ length: C * H * W }, () => Math.floor(rng() * 256));
    const w = Uint8Array.from({ length: O * C }, () => Math.floor(rng() * 256));
    const xz = 100, wz = 130, scale = 0.25;
    const bytes = model({
      nodes: [
        { opType: 'ConvInteger', input: ['X', 'W', 'Xz', 'Wz'], output: ['Y'] },
        { opType: 'DequantizeLinear', input: ['X', 'S', 'Xz'], output: ['D'] },
      ],
      inits: [raw('W', T.UINT8, [O, C, 1, 1], w), raw('Xz', T.UINT8, [], new Uint8Array([xz])), raw('Wz', T.UINT8, [], new Uint8Array([wz])), raw('S', T.FLOAT, [], new Float32Array([scale]))],
      inputs: [io('X', T.UINT8, [1, C, H, W])],
      outputs: [io('Y', T.INT32, [1, O, H, W]), io('D', T.FLOAT, [1, C, H, W])],
    });
    const s = await ort.InferenceSession.create(bytes);
    try {
      const out = await s.run({ X: new ort.Tensor('uint8', x, [1, C, H, W]) });
      const y = out.Y!.data as Int32Array;
      const want = new Int32Array(O * H * W);
      for (let o = 0; o < O; o++) for (let p = 0; p < H * W; p++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += (x[c * H * W + p] - xz) * (w[o * C + c] - wz);
        want[o * H * W + p] = acc;
      }
      expect(Array.from(y)).toEqual(Array.from(want));
      expect(Array.from(out.D!.data as Float32Array)).toEqual(Array.from(x, (v) => (v - xz) * scale));
    } finally {
      await s.release();
    }
  });
});
