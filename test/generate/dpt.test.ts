import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDptModel } from '../../src/inference/generate/dpt/build.js';
import { DPT_CONFIGS, validateDptConfig, type DptConfig } from '../../src/inference/generate/dpt/config.js';
import { countInitializerElements, decodeMetadata } from '../../src/inference/generate/graph.js';

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const tiny = DPT_CONFIGS['dpt-tiny'];

/** A smooth synthetic picture in [-1, 1], NCHW; `shift` moves its content. */
function picture(width: number, height: number, shift = 0): Float32Array {
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) out[(c * height + y) * width + x] = Math.sin((x + shift) / 19 + c) * Math.cos((y - shift) / 27 - c);
  return out;
}

async function depthOf(session: ort.InferenceSession, input: Float32Array, width: number, height: number): Promise<ort.Tensor> {
  return (await session.run({ image: new ort.Tensor('float32', input, [1, 3, height, width]) })).depth;
}

function stats(data: Float32Array): { min: number; max: number; finite: boolean } {
  let min = Infinity;
  let max = -Infinity;
  let finite = true;
  for (const v of data) {
    if (!Number.isFinite(v)) finite = false;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max, finite };
}

describe('dpt-tiny', () => {
  const built = buildDptModel(tiny, 1);
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(built.bytes, opts);
  });
  afterAll(async () => {
    await session?.release();
  });

  it('gives [1,H,W] at 384x384, finite, positive and not constant', async () => {
    const depth = await depthOf(session, picture(384, 384), 384, 384);
    expect(depth.dims).toEqual([1, 384, 384]);
    const s = stats(depth.data as Float32Array);
    expect(s.finite).toBe(true);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max - s.min).toBeGreaterThan(0.5);
  });

  it('handles a non-square input with dynamic position embeddings (384x224)', async () => {
    const depth = await depthOf(session, picture(384, 224), 384, 224);
    expect(depth.dims).toEqual([1, 224, 384]);
    expect(stats(depth.data as Float32Array).finite).toBe(true);
  });

  it('responds to image content', async () => {
    const a = (await depthOf(session, picture(256, 192), 256, 192)).data as Float32Array;
    const b = (await depthOf(session, picture(256, 192, 40), 256, 192)).data as Float32Array;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
    expect(diff / a.length).toBeGreaterThan(0.05);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const input = picture(128, 96);
    const again = await ort.InferenceSession.create(buildDptModel(tiny, 1).bytes, opts);
    const other = await ort.InferenceSession.create(buildDptModel(tiny, 2).bytes, opts);
    try {
      const base = Array.from((await depthOf(session, input, 128, 96)).data as Float32Array);
      expect(Array.from((await depthOf(again, input, 128, 96)).data as Float32Array)).toEqual(base);
      expect(Array.from((await depthOf(other, input, 128, 96)).data as Float32Array)).not.toEqual(base);
    } finally {
      await again.release();
      await other.release();
    }
  });

  it('reports the parameter count stored in its initializers', () => {
    expect(built.parameterCount).toBe(countInitializerElements(built.bytes));
    expect(built.parameterCount).toBeGreaterThan(1_000_000);
  });

  it('carries family, config and a patch-16 preprocessing spec', () => {
    const meta = decodeMetadata(built.bytes);
    expect(meta['depth_video.family']).toBe('dpt-generated');
    expect(meta['depth_video.untrained']).toBe('true');
    expect(JSON.parse(meta['depth_video.config'])).toEqual(tiny);
    expect(JSON.parse(meta['depth_video.spec'])).toEqual({
      width: 384,
      height: 384,
      keepAspect: true,
      resizeMethod: 'minimal',
      multipleOf: 16,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      channelOrder: 'RGB',
      inputInterpolation: 'bicubic',
      outputInterpolation: 'bicubic',
      outputAlignCorners: false,
    });
  });

  it('builds every readout variant and rejects bad configs', () => {
    const small: DptConfig = { ...tiny, embedDim: 32, heads: 2, reassembleChannels: [8, 8, 8, 8], features: 8 };
    const counts = (['ignore', 'add', 'project'] as const).map((readout) => buildDptModel({ ...small, readout }).parameterCount);
    // project adds one 2E->E linear (+bias) per stage; ignore and add have no extra weights.
    expect(counts[0]).toBe(counts[1]);
    expect(counts[2] - counts[0]).toBe(4 * (2 * 32 * 32 + 32));
    expect(() => validateDptConfig({ ...small, heads: 3 })).toThrow(/divisible/);
    expect(() => validateDptConfig({ ...small, hooks: [0, 0, 1, 2] })).toThrow(/hooks/);
  });
});

describe('dpt-vits14-518', () => {
  it('has Depth-Anything-V2-Small parameter count (24.8M +-5%) and a patch-14 spec', () => {
    // Building is cheap (~1 s); inference at 518 is not, so it is not run here.
    const { bytes, parameterCount } = buildDptModel(DPT_CONFIGS['dpt-vits14-518']);
    expect(countInitializerElements(bytes)).toBe(parameterCount);
    expect(Math.abs(parameterCount - 24.8e6) / 24.8e6).toBeLessThan(0.05);
    const spec = JSON.parse(decodeMetadata(bytes)['depth_video.spec']);
    expect(spec).toMatchObject({ width: 518, multipleOf: 14, resizeMethod: 'lower_bound', mean: [0.485, 0.456, 0.406], outputAlignCorners: true });
  });
});
