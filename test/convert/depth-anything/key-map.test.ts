import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertStateDict } from '../../../src/convert/convert.js';
import { chooseVariant, DEPTH_ANYTHING_KEYS, inferConfig } from '../../../src/convert/depth-anything/index.js';
import { isDepthVideoError, type DepthVideoError } from '../../../src/errors.js';
import { readOnnxMetadata } from '../../../src/inference/generate/metadata.js';
import { depthAnythingKeys, randomStateDict, VITL, VITS, type DaShape } from './state-dict.js';

const dir = mkdtempSync(join(tmpdir(), 'dv-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ViT-S width (head dim 64 needs a real width), 4 blocks, small decoder: a V1-shaped file converts fast. */
const SMALL: DaShape = { embedDim: 384, depth: 4, posGrid: 4, features: 16, outChannels: [8, 16, 32, 32] };
const source = (file: string) => ({ file, sha256: 'f'.repeat(64) });

async function failure(p: Promise<unknown>): Promise<DepthVideoError> {
  const e = await p.then(() => null, (err: unknown) => err);
  if (!isDepthVideoError(e)) throw new Error(`expected a DepthVideoError, got ${String(e)}`);
  return e;
}

describe('Depth-Anything key map', () => {
  it('maps every official key exactly once, or names why the forward pass never reads it', async () => {
    for (const shape of [SMALL, { ...SMALL, useClsToken: true }, { ...SMALL, embedDim: 1536, swiglu: true, depth: 4 }]) {
      const dict = randomStateDict(shape, 1, 0);
      const out = join(dir, 'complete.onnx');
      const r = await convertStateDict(dict, source('depth_anything_vits14.pth'), { out, overwrite: true });
      const keys = depthAnythingKeys(shape).map((k) => k.key);
      const unused = keys.filter((k) => DEPTH_ANYTHING_KEYS.unusedReason(k) !== null);
      expect(unused).toEqual([
        'pretrained.mask_token',
        ...[1, 2].flatMap((c) => [`depth_head.scratch.refinenet4.resConfUnit1.conv${c}.weight`, `depth_head.scratch.refinenet4.resConfUnit1.conv${c}.bias`]),
      ]);
      expect([...r.unusedKeys].sort()).toEqual([...unused].sort());
      const count = (k: string): number => depthAnythingKeys(shape).find((e) => e.key === k)!.shape.reduce((a, b) => a * b, 1);
      const all = keys.reduce((a, k) => a + count(k), 0);
      expect(r.parameterCount).toBe(all - unused.reduce((a, k) => a + count(k), 0));
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

describe('conversion refuses bad input with one line and writes nothing', () => {
  it('an unknown architecture lists the first unrecognised keys and the known families', async () => {
    const dict = new Map([['encoder.layer.0.weight', { dtype: 'float32', shape: [2], readFloat32: () => new Float32Array(2) }]]);
    const e = await failure(convertStateDict(dict, source('m.pth'), { out: join(dir, 'unknown.onnx') }));
    expect(e.code).toBe('CHECKPOINT_UNKNOWN');
    expect(e.message).toBe('m.pth: unknown architecture: first unrecognised keys encoder.layer.0.weight; known families: depth-anything (--family depth-anything | depth-anything-v1 | depth-anything-v2 | depth-anything-v2-metric)');
    expect(e.exitCode).toBe(1);
    expect(existsSync(join(dir, 'unknown.onnx'))).toBe(false);
  });

  it('shapes that contradict the family name the key, both shapes and the family', async () => {
    const dict = randomStateDict(SMALL);
    const qkv = dict.get('pretrained.blocks.2.attn.qkv.weight')!;
    dict.set('pretrained.blocks.2.attn.qkv.weight', { ...qkv, shape: [1000, 384] });
    const e = await failure(convertStateDict(dict, source('depth_anything_vits14.pth'), { out: join(dir, 'bad.onnx') }));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toMatch(/^depth_anything_vits14\.pth: pretrained\.blocks\.2\.attn\.qkv\.weight is \[1000, 384\] but depth-anything-v1 ViT-S\/14 .* needs \[1152, 384\]/);
    // Too few blocks for V2's hooks; a width no DINOv2 has; a key the family has no use for.
    expect((await failure(convertStateDict(randomStateDict(SMALL), source('depth_anything_v2_vits.pth'), { out: join(dir, 'bad.onnx') }))).message).toMatch(/4 transformer blocks, but ViT-S hooks block 11/);
    expect((await failure(convertStateDict(randomStateDict({ ...SMALL, embedDim: 320 }), source('d.pth'), { out: join(dir, 'bad.onnx') }))).message).toMatch(/embedding width 320 is none of DINOv2/);
    const extra = randomStateDict(SMALL);
    extra.set('pretrained.register_tokens', { dtype: 'float32', shape: [1, 4, 384], values: new Float32Array(4 * 384), readFloat32: () => new Float32Array(4 * 384) });
    expect((await failure(convertStateDict(extra, source('depth_anything_vits14.pth'), { out: join(dir, 'bad.onnx') }))).message).toMatch(/1 tensor\(s\) that depth-anything-v1 .* has no use for, e.g. pretrained\.register_tokens/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.onnx'))).toEqual([]);
  });

  it('an existing output is kept unless --overwrite', async () => {
    const out = join(dir, 'exists.onnx');
    writeFileSync(out, 'mine');
    const e = await failure(convertStateDict(randomStateDict(SMALL), source('depth_anything_vits14.pth'), { out }));
    expect(e.code).toBe('OUTPUT_EXISTS');
    expect(e.message).toBe(`${out} already exists; pass --overwrite to replace it or choose another --out`);
  });
});
