import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { analyticReference, buildAnalyticModel, channelMean } from '../../src/inference/generate/analytic.js';
import { decodeMetadata } from '../../src/inference/generate/graph.js';
import { mulberry32 } from '../../src/inference/generate/random.js';

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

function randomImage(seed: number, width: number, height: number): Float32Array {
  const rng = mulberry32(seed);
  // Wide range and awkward fractions so rounding differences would show.
  return Float32Array.from({ length: 3 * width * height }, () => (rng() - 0.5) * 7.3);
}

async function run(model: Uint8Array, input: Float32Array, width: number, height: number): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model, opts);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', input, [1, 3, height, width]) });
    return out.depth;
  } finally {
    await session.release();
  }
}

describe('analytic model', () => {
  it('reference rounds like float32 arithmetic', () => {
    // 1/3 is not representable: a float64 mean would differ from the float32 one.
    expect(channelMean(1, 0, 0)).toBe(Math.fround(1 / 3));
    expect(channelMean(0.1, 0.2, 0.3)).toBe(Math.fround(Math.fround(Math.fround(0.1 + 0.2) + 0.3) / 3));
  });

  const dynamic = buildAnalyticModel();
  for (const [width, height] of [
    [7, 5],
    [64, 48],
  ]) {
    it(`dynamic model is bit-exact at ${width}x${height}`, async () => {
      const input = randomImage(width * 100 + height, width, height);
      const depth = await run(dynamic, input, width, height);
      expect(depth.dims).toEqual([1, height, width]);
      expect(Array.from(depth.data as Float32Array)).toEqual(Array.from(analyticReference(input, width, height)));
    });
  }

  it('fixed-size model is bit-exact and declares its size', async () => {
    const model = buildAnalyticModel({ fixedSize: { width: 32, height: 24 } });
    const input = randomImage(3, 32, 24);
    const depth = await run(model, input, 32, 24);
    expect(Array.from(depth.data as Float32Array)).toEqual(Array.from(analyticReference(input, 32, 24)));
    const spec = JSON.parse(decodeMetadata(model)['depth_video.spec']);
    expect(spec).toMatchObject({ width: 32, height: 24, keepAspect: false, multipleOf: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(spec.native).toBeUndefined();
    // A fixed model refuses other sizes instead of silently accepting them.
    await expect(run(model, randomImage(4, 16, 16), 16, 16)).rejects.toThrow();
  });

  it('slow variant gives exactly the same output', async () => {
    const input = randomImage(9, 20, 12);
    const fast = await run(dynamic, input, 20, 12);
    const slow = await run(buildAnalyticModel({ slowOps: 3 }), input, 20, 12);
    expect(Array.from(slow.data as Float32Array)).toEqual(Array.from(fast.data as Float32Array));
  });

  it('carries the metadata the pipeline reads', () => {
    const meta = decodeMetadata(dynamic);
    expect(meta['depth_video.family']).toBe('analytic');
    expect(meta['depth_video.untrained']).toBe('true');
    const spec = JSON.parse(meta['depth_video.spec']);
    expect(spec).toMatchObject({ native: true, width: 64, height: 64, channelOrder: 'RGB', inputInterpolation: 'bilinear', outputAlignCorners: false });
  });

  it('rejects a bad slowOps', () => {
    expect(() => buildAnalyticModel({ slowOps: -1 })).toThrow(/slowOps/);
  });
});
