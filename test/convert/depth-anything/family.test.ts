import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors, writeTorchCheckpoint } from '../../../src/convert/checkpoint/index.js';
import { convertCheckpoint, convertStateDict, planConversion } from '../../../src/convert/convert.js';
import { buildDepthAnything, chooseVariant, DEPTH_ANYTHING_KEYS, inferConfig, type DepthAnythingConfig } from '../../../src/convert/depth-anything/index.js';
import { RandomWeights } from '../../../src/inference/generate/dpt/weights.js';
import { GraphBuilder } from '../../../src/inference/generate/graph.js';
import { mulberry32 } from '../../../src/inference/generate/random.js';
import { readOnnxMetadata } from '../../../src/inference/generate/metadata.js';
import { EXTERNAL_DATA_BYTES_KEY } from '../../../src/models/onnx-wire.js';
import { ensureConverted } from '../../../src/models/converted.js';
import { caught } from '../../models/helpers.js';
import { depthAnythingKeys, randomStateDict, VITL, VITS, type DaShape } from './state-dict.js';

const dir = mkdtempSync(join(tmpdir(), 'dv-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ViT-S width (head dim 64 needs a real width), 4 blocks, small decoder: a V1-shaped file converts fast. */
const SMALL: DaShape = { embedDim: 384, depth: 4, posGrid: 4, features: 16, outChannels: [8, 16, 32, 32] };
const source = (file: string) => ({ file, sha256: 'f'.repeat(64) });

describe('Depth-Anything key map', () => {
  it('maps every official key exactly once, or names why the forward pass never reads it', () => {
    const shapes: DaShape[] = [SMALL, { ...SMALL, useClsToken: true }, { ...SMALL, embedDim: 1536, swiglu: true }, VITS];
    for (const shape of shapes) {
      const entries = depthAnythingKeys(shape);
      // Shapes only: building the graph reads no values.
      const dict = new Map(entries.map(({ key, shape: dims }) => [key, { dtype: 'float32', shape: dims, readFloat32: () => new Float32Array(0) }]));
      const { graph, weights } = planConversion(dict, shape === VITS ? 'depth_anything_v2_vits.pth' : 'depth_anything_vits14.pth');
      const unused = entries.map((e) => e.key).filter((k) => !weights.usedKeys.has(k));
      expect(unused).toEqual([
        'pretrained.mask_token',
        ...[1, 2].flatMap((c) => [`depth_head.scratch.refinenet4.resConfUnit1.conv${c}.weight`, `depth_head.scratch.refinenet4.resConfUnit1.conv${c}.bias`]),
      ]);
      expect(unused.every((k) => DEPTH_ANYTHING_KEYS.unusedReason(k) !== null)).toBe(true);
      // One initializer per used key, named after it, holding exactly its values.
      const inits = graph.parts().initializers;
      expect(inits.map((t) => t.name).sort()).toEqual([...weights.usedKeys].sort());
      const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
      for (const t of inits) expect(size(t.dims)).toBe(size(entries.find((e) => e.key === t.name)!.shape));
    }
  });

  it('infers the official configs from shapes and takes V1 or V2 from the file name', () => {
    const keysOnly = (s: DaShape) => new Map(depthAnythingKeys(s).map(({ key, shape }) => [key, { dtype: 'float32', shape, readFloat32: () => new Float32Array(0) }]));
    const v2 = inferConfig(keysOnly(VITS), 'x', chooseVariant('depth_anything_v2_vits.pth', undefined, undefined));
    expect(v2).toMatchObject({ variant: 'v2', encoder: 'vits', hooks: [2, 5, 8, 11], features: 64, outChannels: [48, 96, 192, 384], useClsToken: false, maxDepth: null });
    expect(v2.vit).toEqual({ patchSize: 14, embedDim: 384, depth: 12, heads: 6, mlpHidden: 1536, ffn: 'mlp', layerScale: true, posGrid: 37, posEmbedResize: 'dinov2' });
    expect(inferConfig(keysOnly(VITL), 'x', chooseVariant('depth_anything_v2_vitl.pth', undefined, undefined)).hooks).toEqual([4, 11, 17, 23]);
    expect(inferConfig(keysOnly(VITL), 'x', chooseVariant('depth_anything_vitl14.pth', undefined, undefined))).toMatchObject({ variant: 'v1', hooks: [20, 21, 22, 23] });
    const g = inferConfig(keysOnly({ embedDim: 1536, depth: 40, posGrid: 37, features: 384, outChannels: [1536, 1536, 1536, 1536], swiglu: true }), 'x', chooseVariant('depth_anything_v2_vitg.pth', undefined, undefined));
    expect(g).toMatchObject({ encoder: 'vitg', hooks: [9, 19, 29, 39] });
    expect(g.vit).toMatchObject({ heads: 24, ffn: 'swiglu', mlpHidden: 4096 });
    expect(chooseVariant('depth_anything_v2_metric_vkitti_vitl.pth', undefined, undefined)).toMatchObject({ variant: 'v2-metric', maxDepth: 80 });
    expect(chooseVariant('depth_anything_v2_metric_hypersim_vits.pth', undefined, undefined)).toMatchObject({ variant: 'v2-metric', maxDepth: 20 });
    expect(chooseVariant('distill_any_depth_small.safetensors', undefined, undefined).chosenBy).toMatch(/^assumed: .* --family depth-anything-v1/);
    expect(chooseVariant('depth_anything_v2_vits.pth', 'depth-anything-v1', undefined)).toMatchObject({ variant: 'v1', chosenBy: '--family depth-anything-v1' });
    expect(() => chooseVariant('model.pth', 'depth-anything-v2-metric', undefined)).toThrow(/--max-depth 20 .*--max-depth 80/);
  });

  it('writes family, spec, config, output kind and source hash into the model', async () => {
    const out = join(dir, 'meta.onnx');
    await convertStateDict(randomStateDict(SMALL), source('depth_anything_vits14.pth'), { out });
    const meta = readOnnxMetadata(out);
    expect(meta['depth_video.family']).toBe('depth-anything');
    expect(meta['depth_video.variant']).toBe('depth-anything-v1');
    expect(meta['depth_video.untrained']).toBe('false');
    expect(meta['depth_video.source_sha256']).toBe('f'.repeat(64));
    expect(meta['depth_video.output']).toBe('relative-inverse-depth');
    // V1's run.py brings the depth back with align_corners=False.
    expect(JSON.parse(meta['depth_video.spec'])).toMatchObject({ width: 518, multipleOf: 14, resizeMethod: 'lower_bound', outputAlignCorners: false });
    expect(JSON.parse(meta['depth_video.config'])).toMatchObject({ variant: 'v1', hooks: [0, 1, 2, 3] });
  });
});

describe('converted Depth-Anything models', () => {
  it('run at any multiple of 14, and keep their weights in <out>.data above the threshold with the same output', async () => {
    const dict = randomStateDict(SMALL);
    // Lift the last conv's bias so the final ReLU lets the output through.
    dict.get('depth_head.scratch.output_conv2.2.bias')!.values[0] = 1;
    const inline = join(dir, 'inline.onnx');
    const external = join(dir, 'external.onnx');
    await convertStateDict(dict, source('depth_anything_vits14.pth'), { out: inline });
    const r = await convertStateDict(dict, source('depth_anything_vits14.pth'), { out: external, externalDataAbove: 1 });
    expect(r.dataPath).toBe(`${external}.data`);
    expect(statSync(external).size).toBeLessThan(100_000);
    for (const [h, w] of [[56, 56], [42, 70]]) {
      const input = new Float32Array(3 * h * w).map((_, i) => Math.sin(i / 13));
      const feeds = { image: new ort.Tensor('float32', input, [1, 3, h, w]) };
      const outs: Float32Array[] = [];
      for (const model of [inline, external]) {
        const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
        const depth = (await s.run(feeds)).depth;
        expect(depth.dims).toEqual([1, h, w]);
        outs.push(depth.data as Float32Array);
        await s.release();
      }
      expect(new Set(outs[0]).size).toBeGreaterThan(h * w * 0.5);
      expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
    }
  });

  it('leave a <out>.data they did not write alone without overwrite: an inline model would delete it, an external one replace it', async () => {
    const out = join(dir, 'stray.onnx');
    writeFileSync(`${out}.data`, 'mine');
    for (const externalDataAbove of [undefined, 1]) {
      const e = await caught(convertStateDict(randomStateDict(SMALL), source('depth_anything_vits14.pth'), { out, externalDataAbove }));
      expect(e.code).toBe('OUTPUT_EXISTS');
      expect(e.message).toBe(`${out}.data already exists; pass --overwrite to replace it or choose another --out`);
      expect(readFileSync(`${out}.data`, 'utf8')).toBe('mine');
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('the converted-model cache', () => {
  it('converts again when the weights file beside a cached model is gone or cut, and says why', async () => {
    const pth = join(dir, 'cache-weights', 'depth_anything_vits14.pth');
    const cache = join(dir, 'cache-weights', 'converted');
    mkdirSync(join(dir, 'cache-weights'), { recursive: true });
    writeTorchCheckpoint(pth, [...randomStateDict(SMALL)].map(([key, t]) => ({ key, dtype: 'float32' as const, shape: t.shape, data: t.values })));
    const run = async () => {
      const notes: string[] = [];
      const onnx = await ensureConverted(pth, { dir: cache, externalDataAbove: 1, onNote: (l) => notes.push(l) });
      return { onnx, first: notes[0] ?? null };
    };
    const made = await run();
    expect(made.first).toMatch(/ to ONNX on first use \(cached as /);
    const data = `${made.onnx}.data`;
    const bytes = statSync(data).size;
    expect(readOnnxMetadata(made.onnx)[EXTERNAL_DATA_BYTES_KEY]).toBe(String(bytes));
    expect((await run()).first).toBeNull();

    rmSync(data);
    const again = await run();
    expect(again.first).toBe(`converting ${pth} to ONNX again (its weights file ${data} is missing or incomplete) (cached as ${made.onnx})`);
    expect(statSync(data).size).toBe(bytes);

    truncateSync(data, bytes - 4);
    expect((await run()).first).toMatch(/ to ONNX again \(its weights file .* is missing or incomplete\)/);
    expect(statSync(data).size).toBe(bytes);
    const session = await ort.InferenceSession.create(made.onnx);
    expect(session.outputNames.length).toBe(1);
    await session.release();
  });
});

describe('--family values', () => {
  it('an unknown one is the same usage line whether the file is converted or cached, before anything is read or written', async () => {
    const cache = join(dir, 'cache');
    const missing = join(dir, 'absent.pth');
    const direct = await caught(convertStateDict(randomStateDict(SMALL), source('x.pth'), { out: join(dir, 'never.onnx'), family: '../x' }));
    const cached = await caught(ensureConverted(missing, { dir: cache, family: '../x' }));
    for (const e of [direct, cached]) {
      expect(e.code).toBe('USAGE');
      expect(e.message).toMatch(/^unknown --family \.\.\/x; known: depth-anything \(--family depth-anything \| depth-anything-v1 \| depth-anything-v2 \| depth-anything-v2-metric\); midas-vit \(--family midas-vit\);/);
    }
    expect(cached.message).toBe(direct.message);
    expect(existsSync(join(dir, 'never.onnx'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
  });
});

describe('DINOv2 position embeddings', () => {
  it('are untouched for a square input of the training grid, and resampled by (grid + 0.1) / G otherwise', async () => {
    // Same random weights, two ways to bring the 4x4 embeddings to the grid: DINOv2's and a plain resize to the grid.
    const base: DepthAnythingConfig = {
      variant: 'v2-metric',
      encoder: 'vits',
      vit: { patchSize: 14, embedDim: 64, depth: 4, heads: 1, mlpHidden: 64, ffn: 'mlp', layerScale: true, posGrid: 4, posEmbedResize: 'dinov2' },
      hooks: [0, 1, 2, 3],
      features: 8,
      outChannels: [4, 4, 8, 8],
      useClsToken: false,
      maxDepth: 1,
    };
    const model = (posEmbedResize: 'dinov2' | 'bicubic'): Uint8Array => {
      const g = new GraphBuilder('pos');
      const image = g.input('image', [1, 3, 'H', 'W']);
      g.output(buildDepthAnything({ g, weights: new RandomWeights(mulberry32(5)) }, { ...base, vit: { ...base.vit, posEmbedResize } }, image), 'depth', [1, 'H', 'W']);
      return g.toBytes();
    };
    const sessions = await Promise.all([model('dinov2'), model('bicubic')].map((b) => ort.InferenceSession.create(b, { intraOpNumThreads: 1 })));
    const maxDiff = async (h: number, w: number): Promise<number> => {
      const feeds = { image: new ort.Tensor('float32', new Float32Array(3 * h * w).map((_, i) => Math.sin(i / 5)), [1, 3, h, w]) };
      const [a, b] = await Promise.all(sessions.map(async (s) => (await s.run(feeds)).depth.data as Float32Array));
      return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    };
    try {
      expect(await maxDiff(56, 56)).toBe(0);
      // 4x5 and 5x5 grids: DINOv2 samples at (x + 0.5) * G / (g + 0.1) - 0.5, not at the resize-to-grid positions.
      expect(await maxDiff(56, 70)).toBeGreaterThan(1e-4);
      expect(await maxDiff(70, 70)).toBeGreaterThan(1e-4);
    } finally {
      await Promise.all(sessions.map((s) => s.release()));
    }
  });
});

describe('checkpoint formats', () => {
  it('a bfloat16 .safetensors file converts to the model of the same values in a float32 .pth', async () => {
    const dict = randomStateDict(SMALL, 3);
    dict.get('depth_head.scratch.output_conv2.2.bias')!.values[0] = 1;
    const entries = [...dict].map(([key, t]) => {
      const bits = new Uint16Array(t.values.length);
      const u32 = new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length);
      for (let i = 0; i < bits.length; i++) bits[i] = u32[i] >>> 16;
      // The float32 twin holds exactly the bfloat16 values (low 16 bits cleared).
      const truncated = new Float32Array(new Uint32Array(Array.from(bits, (b) => b << 16)).buffer);
      return { key, shape: t.shape, bits, truncated };
    });
    const st = join(dir, 'depth_anything_vits14.safetensors');
    const pth = join(dir, 'depth_anything_vits14.pth');
    writeSafetensors(st, entries.map((e) => ({ key: e.key, dtype: 'bfloat16' as const, shape: e.shape, data: e.bits })));
    writeTorchCheckpoint(pth, entries.map((e) => ({ key: e.key, dtype: 'float32' as const, shape: e.shape, data: e.truncated })));
    const outs: Float32Array[] = [];
    for (const file of [st, pth]) {
      const out = join(dir, 'format.onnx');
      const r = await convertCheckpoint(file, { out, overwrite: true });
      expect(r.variant).toBe('depth-anything-v1');
      const s = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
      outs.push((await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 56 * 56).map((_, i) => Math.sin(i / 11)), [1, 3, 56, 56]) })).depth.data as Float32Array);
      await s.release();
    }
    expect(new Set(outs[0]).size).toBeGreaterThan(100);
    expect(Array.from(outs[0])).toEqual(Array.from(outs[1]));
  });
});

describe('metric Depth-Anything V2', () => {
  it('gives max_depth * sigmoid of what the relative head passes through its ReLU', async () => {
    // 12 blocks for V2's hooks; the small grid and decoder keep it quick.
    const dict = randomStateDict({ ...SMALL, depth: 12 });
    dict.get('depth_head.scratch.output_conv2.2.bias')!.values[0] = 0.5;
    const relative = join(dir, 'relative.onnx');
    const metric = join(dir, 'metric.onnx');
    await convertStateDict(dict, source('depth_anything_v2_vits.pth'), { out: relative });
    const r = await convertStateDict(dict, source('depth_anything_v2_metric_vkitti_vits.pth'), { out: metric });
    expect(r).toMatchObject({ variant: 'depth-anything-v2-metric', output: 'metric-depth' });
    expect(r.notes[0]).toBe('the output is metric depth in metres (larger = farther, up to 80 m); pictures show near as bright, as for relative depth (--invert: far bright)');
    const [h, w] = [56, 70];
    const feeds = { image: new ort.Tensor('float32', new Float32Array(3 * h * w).map((_, i) => Math.cos(i / 17)), [1, 3, h, w]) };
    const run = async (model: string): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
      try {
        return (await s.run(feeds)).depth.data as Float32Array;
      } finally {
        await s.release();
      }
    };
    const [rel, met] = [await run(relative), await run(metric)];
    let positive = 0;
    for (let i = 0; i < rel.length; i++) {
      expect(met[i]).toBeGreaterThan(0);
      if (rel[i] > 0) {
        positive++;
        expect(met[i]).toBeCloseTo(80 / (1 + Math.exp(-rel[i])), 4);
      } else expect(met[i]).toBeLessThanOrEqual(40);
    }
    expect(positive).toBeGreaterThan(rel.length / 4);
  });
});

describe('Depth-Anything shapes that contradict the family', () => {
  async function message(p: Promise<unknown>): Promise<string> {
    const e = await caught(p);
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    return e.message;
  }

  it('a width no DINOv2 has, and a tensor the family has no use for, are refused by name', async () => {
    const out = join(dir, 'refused.onnx');
    expect(await message(convertStateDict(randomStateDict({ ...SMALL, embedDim: 320 }, 1, 0), source('d.pth'), { out }))).toMatch(/embedding width 320 is none of DINOv2/);
    const extra = randomStateDict(SMALL, 1, 0);
    extra.set('pretrained.register_tokens', { dtype: 'float32', shape: [1, 4, 384], values: new Float32Array(4 * 384), readFloat32: () => new Float32Array(4 * 384) });
    expect(await message(convertStateDict(extra, source('depth_anything_vits14.pth'), { out }))).toMatch(
      /^depth_anything_vits14\.pth: 1 tensor that depth-anything-v1 .* has no use for, e\.g\. pretrained\.register_tokens/,
    );
    expect(readdirSync(dir).filter((f) => f.startsWith('refused'))).toEqual([]);
  });
});
