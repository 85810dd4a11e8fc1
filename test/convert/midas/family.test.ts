import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { MIDAS_BEIT_KEYS, relativePositionBias, relativePositionIndex, relativePositionIndexOf } from '../../../src/convert/beit/index.js';
import { readReferenceKeys } from '../../../src/convert/checkpoint/index.js';
import { convertStateDict, planConversion } from '../../../src/convert/convert.js';
import { CONVERTER_FAMILIES, selectFamily } from '../../../src/convert/registry.js';
import { MIDAS_VIT_KEYS } from '../../../src/convert/vit/index.js';
import type { StateTensor } from '../../../src/convert/weights.js';
import { GraphBuilder } from '../../../src/inference/generate/graph.js';
import { readOnnxMetadata } from '../../../src/inference/generate/metadata.js';
import type { WeightSource } from '../../../src/inference/generate/dpt/weights.js';
import { tempDir } from '../../helpers/media.js';
import { depthAnythingKeys, VITS } from '../depth-anything/state-dict.js';
import { requireOrSkip } from '../../helpers/prerequisites.js';
import { MIDAS_REFERENCE, thrown } from '../helpers.js';
import { BEIT_B_384, BEIT_L_512, DPT_HYBRID, DPT_LARGE, midasKeys, randomEntries, shapesOnly, type MidasShape } from './state-dict.js';

const dir = tempDir('dv-midas-family-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A ViT-B-deep DPT small enough to convert and run in a second (width 64, one head, 4x4 position grid). */
const SMALL_VIT: MidasShape = { encoder: 'vit', embedDim: 64, depth: 12, grid: 4, features: 16, maps: [8, 16, 32, 32] };

describe('MiDaS key maps', () => {
  it('map every official key exactly once, or name why the forward pass never reads it', () => {
    const skip = [1, 2].flatMap((c) => [`scratch.refinenet4.resConfUnit1.conv${c}.weight`, `scratch.refinenet4.resConfUnit1.conv${c}.bias`]);
    const cases: [MidasShape, string[]][] = [
      [DPT_LARGE, ['pretrained.model.norm.weight', 'pretrained.model.norm.bias', 'pretrained.model.head.weight', 'pretrained.model.head.bias', ...skip]],
      [DPT_HYBRID, ['pretrained.model.norm.weight', 'pretrained.model.norm.bias', 'pretrained.model.head.weight', 'pretrained.model.head.bias', ...skip]],
      [BEIT_B_384, ['pretrained.model.fc_norm.weight', 'pretrained.model.fc_norm.bias', 'pretrained.model.head.weight', 'pretrained.model.head.bias', ...skip]],
      [
        { ...BEIT_L_512, withIndex: true },
        [
          ...Array.from({ length: 24 }, (_, b) => `pretrained.model.blocks.${b}.attn.relative_position_index`),
          'pretrained.model.fc_norm.weight',
          'pretrained.model.fc_norm.bias',
          'pretrained.model.head.weight',
          'pretrained.model.head.bias',
          ...skip,
        ],
      ],
    ];
    for (const [shape, expectedUnused] of cases) {
      const entries = midasKeys(shape);
      // The stored indices are checked against the window's, so they need their values.
      const dict = shapesOnly(entries);
      for (const e of entries.filter((x) => x.dtype === 'int64')) dict.set(e.key, { ...dict.get(e.key)!, readFloat32: () => Float32Array.from(relativePositionIndex(shape.grid, shape.grid)) });
      const { graph, weights, plan } = planConversion(dict, 'model.pt');
      const unused = entries.map((e) => e.key).filter((k) => !weights.usedKeys.has(k));
      expect(unused.sort(), plan.variant).toEqual([...expectedUnused].sort());
      const keyMap = shape.encoder === 'beit' ? MIDAS_BEIT_KEYS : MIDAS_VIT_KEYS;
      expect(unused.every((k) => keyMap.unusedReason(k) !== null)).toBe(true);
      // One initializer per used key, named after it, holding exactly its values.
      const inits = graph.parts().initializers;
      expect(inits.map((t) => t.name).sort()).toEqual([...weights.usedKeys].sort());
      const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
      for (const t of inits) expect(size(t.dims), t.name).toBe(size(entries.find((e) => e.key === t.name)!.shape));
    }
  });

  it('infer the released configs from shapes: variant, preprocessing family, hooks, heads, window', () => {
    const plan = (s: MidasShape) => planConversion(shapesOnly(midasKeys(s)), 'model.pt').plan;
    expect(plan(DPT_LARGE)).toMatchObject({ variant: 'midas-dpt-large-384', runtimeFamily: 'dpt', chosenBy: 'from the keys and shapes' });
    expect(plan(DPT_LARGE).config).toMatchObject({ backbone: 'vitl16_384', hooks: [5, 11, 17, 23], resnet: null, vit: { heads: 16, mlpHidden: 4096, posGrid: 24, posEmbedResize: 'bilinear', layerScale: false } });
    expect(plan(DPT_HYBRID)).toMatchObject({ variant: 'midas-dpt-hybrid-384', runtimeFamily: 'dpt' });
    expect(plan(DPT_HYBRID).config).toMatchObject({ backbone: 'vitb_rn50_384', hooks: [8, 11], resnet: { stemWidth: 64, depths: [3, 4, 9], widths: [256, 512, 1024], mids: [64, 128, 256] } });
    expect(plan(BEIT_B_384)).toMatchObject({ variant: 'midas-beit-base-384', runtimeFamily: 'beit-384' });
    expect(plan(BEIT_B_384).config).toMatchObject({ backbone: 'beitb16_384', window: 24, hooks: [2, 5, 8, 11], vit: { heads: 12, qkvBias: 'qv', layerScale: true, posEmbedResize: 'none' } });
    expect(plan({ ...BEIT_L_512, grid: 24 })).toMatchObject({ variant: 'midas-beit-large-384', runtimeFamily: 'beit-384' });
    expect(plan(BEIT_L_512)).toMatchObject({ variant: 'midas-beit-large-512', runtimeFamily: 'beit-512' });
    expect(plan(BEIT_L_512).config).toMatchObject({ backbone: 'beitl16_512', window: 32, hooks: [5, 11, 17, 23], vit: { heads: 16 } });
    expect(plan(BEIT_L_512).spec).toMatchObject({ width: 512, height: 512, keepAspect: true, resizeMethod: 'minimal', multipleOf: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  });

  it('shapes that contradict the family are one line naming the key', () => {
    const mismatch = (s: MidasShape, change: (d: Map<string, StateTensor>) => void): string => {
      const dict = shapesOnly(midasKeys(s));
      change(dict);
      const e = thrown(() => planConversion(dict, 'x.pt'));
      expect(e.code).toBe('CHECKPOINT_MISMATCH');
      return e.message;
    };
    const reshape = (d: Map<string, StateTensor>, key: string, shape: number[]) => d.set(key, { ...d.get(key)!, shape });
    expect(mismatch(BEIT_B_384, (d) => reshape(d, 'pretrained.model.blocks.7.attn.relative_position_bias_table', [3972, 12]))).toBe(
      'x.pt: pretrained.model.blocks.7.attn.relative_position_bias_table is [3972, 12] but midas-beit-base-384 BEiT-B/16 (width 768, 12 blocks, 12 heads, MLP 3072, relative position bias for a 24x24 window, resized to the input\'s grid), hooks 2,5,8,11, readout project, features 256, maps 96/192/384/768 needs [2212, 12]; the shapes contradict the family (check --family)',
    );
    expect(mismatch(BEIT_B_384, (d) => reshape(d, 'pretrained.model.blocks.0.attn.relative_position_bias_table', [2000, 12]))).toMatch(
      /^x\.pt: pretrained\.model\.blocks\.0\.attn\.relative_position_bias_table has 2000 rows, not \(2W-1\)\^2 \+ 3 for a square window W; the checkpoint does not match MiDaS v3\.1 BEiT/,
    );
    expect(mismatch({ ...BEIT_B_384, grid: 32 }, () => undefined)).toMatch(/width 768, 12 blocks and a 32x32 window are none of MiDaS's BEiTs: beitb16_384 \(width 768, 12 blocks, window 24\)/);
    expect(mismatch(DPT_HYBRID, (d) => reshape(d, 'scratch.layer1_rn.weight', [256, 128, 3, 3]))).toMatch(/scratch\.layer1_rn takes 128 channels but ResNet stage 0 gives 256; the checkpoint does not match MiDaS v3\.0 DPT-Hybrid/);
    expect(mismatch(DPT_LARGE, (d) => d.delete('pretrained.model.blocks.23.norm1.weight'))).toMatch(/needs pretrained\.model\.blocks\.23\.norm1\.weight \[1024\], which the checkpoint lacks/);
    expect(mismatch(DPT_LARGE, (d) => reshape(d, 'pretrained.act_postprocess2.3.weight', [256, 1024, 1, 1]))).toMatch(/pretrained\.act_postprocess2\.3\.weight is \[256, 1024, 1, 1\] but midas-dpt-large-384 .* needs \[512, 1024, 1, 1\]/);
  });

  it('a stored relative_position_index must be the training window\'s', () => {
    const entries = midasKeys({ ...BEIT_B_384, withIndex: true });
    const dict = shapesOnly(entries);
    const good = Float32Array.from(relativePositionIndex(24, 24));
    const bad = good.slice();
    bad[1000] += 1;
    for (const e of entries.filter((x) => x.dtype === 'int64')) dict.set(e.key, { ...dict.get(e.key)!, readFloat32: () => (e.key.includes('blocks.4.') ? bad : good) });
    const e = thrown(() => planConversion(dict, 'x.pt'));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toBe(
      `x.pt: pretrained.model.blocks.4.attn.relative_position_index holds ${bad[1000]} at element 1000, but BEiT-B 384 derives ${good[1000]}; the checkpoint does not match BEiT-B 384 (check --family)`,
    );
    const key = 'pretrained.model.blocks.4.attn.relative_position_index';
    dict.set(key, { ...dict.get(key)!, shape: [577, 576], readFloat32: () => good });
    expect(thrown(() => planConversion(dict, 'x.pt')).message).toBe(
      `x.pt: ${key} is [577, 576], but BEiT-B 384 derives [577, 577]; the checkpoint does not match BEiT-B 384 (check --family)`,
    );
  });
});

describe('recognising MiDaS checkpoints', () => {
  it('tells Depth-Anything, MiDaS ViT and MiDaS BEiT apart by their keys', () => {
    const family = (keys: { key: string; shape: number[] }[]) => selectFamily(shapesOnly(keys.map((k) => ({ ...k, dtype: 'float32' as const }))), 'x.pt').name;
    expect(family(depthAnythingKeys(VITS))).toBe('depth-anything');
    expect(family(midasKeys(DPT_LARGE))).toBe('midas-vit');
    expect(family(midasKeys(DPT_HYBRID))).toBe('midas-vit');
    expect(family(midasKeys(BEIT_B_384))).toBe('midas-beit');
  });

  const others = ['swin2-tiny-256', 'levit-224'].map((n) => join(MIDAS_REFERENCE, n, 'keys.json'));
  requireOrSkip(`the SwinV2 and LeViT keys.json in ${MIDAS_REFERENCE}`, others.every(existsSync)).it('takes neither the SwinV2 nor the LeViT checkpoint for its own', () => {
    const mine = CONVERTER_FAMILIES.filter((f) => f.name === 'midas-vit' || f.name === 'midas-beit');
    expect(mine).toHaveLength(2);
    for (const keysJson of others) {
      const keys = new Set(readReferenceKeys(keysJson).keys.map((k) => k.key));
      for (const f of mine) expect(f.detect(keys), `${f.name} on ${keysJson}`).toBe(false);
    }
  });
});

/** A weight source with fixed values by name. */
function fixed(values: Record<string, Float32Array>): WeightSource {
  return { take: (g, r) => g.param(r.name, r.dims, values[r.name]) };
}

/**
 * PyTorch's F.interpolate(mode='bilinear', align_corners=False) on one
 * [rows, cols] plane: source = (dst + 0.5) · in/out − 0.5, clamped at 0.
 */
function torchBilinear(src: Float64Array, rows: number, cols: number, outRows: number, outCols: number): Float64Array {
  const out = new Float64Array(outRows * outCols);
  const axis = (dst: number, n: number, m: number): [number, number, number] => {
    const s = Math.max((dst + 0.5) * (n / m) - 0.5, 0);
    const i0 = Math.min(Math.floor(s), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), s - i0];
  };
  for (let y = 0; y < outRows; y++) {
    const [y0, y1, fy] = axis(y, rows, outRows);
    for (let x = 0; x < outCols; x++) {
      const [x0, x1, fx] = axis(x, cols, outCols);
      const top = src[y0 * cols + x0] * (1 - fx) + src[y0 * cols + x1] * fx;
      const bottom = src[y1 * cols + x0] * (1 - fx) + src[y1 * cols + x1] * fx;
      out[y * outCols + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

describe('BEiT relative position bias', () => {
  it('gen_relative_position_index, worked by hand for a 2x3 window', () => {
    const idx = relativePositionIndex(2, 3);
    // (2·2−1)(2·3−1) + 3 = 18 rows: cls→token 15, token→cls 16, cls→cls 17.
    expect(Array.from(idx.subarray(0, 7))).toEqual([17, 15, 15, 15, 15, 15, 15]);
    expect(Array.from({ length: 6 }, (_, i) => idx[(i + 1) * 7])).toEqual([16, 16, 16, 16, 16, 16]);
    // Token (0,0) to (0,0): (0+1)·5 + (0+2) = 7; to (1,2): (−1+1)·5 + (−2+2) = 0; token (1,2) to (0,0): 2·5 + 4 = 14.
    expect(idx[1 * 7 + 1]).toBe(7);
    expect(idx[1 * 7 + 6]).toBe(0);
    expect(idx[6 * 7 + 1]).toBe(14);
  });

  it('built in the graph for the runtime grid, equals the index and the official table resize for grids up, down and across', async () => {
    const W = 3;
    const heads = 2;
    const side = 2 * W - 1;
    const rows = side * side + 3;
    const table = Float32Array.from({ length: rows * heads }, (_, i) => Math.sin(i * 0.7) + i / 50);
    const g = new GraphBuilder('relpos');
    const hw = g.input('hw', [2]);
    const ctx = { g, weights: fixed({ 'blocks.0.attn.relative_position_bias_table': table }) };
    const index = relativePositionIndexOf(ctx, hw);
    g.output(index, 'index', ['T', 'T']);
    g.output(relativePositionBias(ctx, 'blocks.0.attn', W, heads, hw, index), 'bias', [heads, 'T', 'T']);
    // The builder declares float inputs and outputs; the grid and the index are int64 (as Shape gives them in a model).
    const parts = g.parts();
    for (const v of [parts.inputs[0], parts.outputs[0]]) (v.type!.tensorType as { elemType: number }).elemType = 7;
    const session = await ort.InferenceSession.create(g.toBytes());
    try {
      for (const [h, w] of [[3, 3], [2, 5], [4, 3], [1, 1]]) {
        const r = await session.run({ hw: new ort.Tensor('int64', BigInt64Array.of(BigInt(h), BigInt(w)), [2]) });
        const want = relativePositionIndex(h, w);
        expect(Array.from(r.index.data as BigInt64Array, Number), `${h}x${w}`).toEqual(Array.from(want));
        // MiDaS _get_rel_pos_bias: each head's (2W−1)² plane resized to (2h−1)x(2w−1), the 3 class rows kept.
        const T = h * w + 1;
        const bias = r.bias.data as Float32Array;
        expect(r.bias.dims).toEqual([heads, T, T]);
        for (let head = 0; head < heads; head++) {
          const plane = Float64Array.from({ length: side * side }, (_, i) => table[i * heads + head]);
          const resized = torchBilinear(plane, side, side, 2 * h - 1, 2 * w - 1);
          const full = [...resized, ...[0, 1, 2].map((k) => table[(side * side + k) * heads + head])];
          for (let i = 0; i < T * T; i++) expect(bias[head * T * T + i]).toBeCloseTo(full[want[i]], 5);
        }
        if (h === W && w === W) for (let i = 0; i < T * T; i++) expect(bias[i]).toBe(table[want[i] * heads]);
      }
    } finally {
      await session.release();
    }
  });
});

describe('converted MiDaS ViT models', () => {
  it('carry family, spec and source hash, and run at any multiple of 32 with the position embeddings resized', async () => {
    const entries = randomEntries(SMALL_VIT, 3);
    const dict = new Map(
      entries.map((e) => {
        const values = (e.data as () => Float32Array)();
        // Lift the last conv's bias so the final ReLU lets the output through.
        if (e.key === 'scratch.output_conv.4.bias') values[0] = 1;
        return [e.key, { dtype: 'float32', shape: e.shape, readFloat32: () => values }];
      }),
    );
    const out = join(dir, 'small-vit.onnx');
    const r = await convertStateDict(dict, { file: 'dpt_small.pt', sha256: 'e'.repeat(64) }, { out });
    expect(r.variant).toBe('midas-dpt-base-64');
    const meta = readOnnxMetadata(out);
    expect(meta['depth_video.family']).toBe('dpt');
    expect(meta['depth_video.variant']).toBe('midas-dpt-base-64');
    expect(meta['depth_video.source_sha256']).toBe('e'.repeat(64));
    expect(meta['depth_video.untrained']).toBe('false');
    expect(JSON.parse(meta['depth_video.spec'])).toMatchObject({ width: 384, keepAspect: true, resizeMethod: 'minimal', multipleOf: 32, mean: [0.5, 0.5, 0.5], outputInterpolation: 'bicubic' });
    const s = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
    try {
      const outs: Float32Array[] = [];
      for (const [h, w] of [[64, 64], [64, 96], [96, 64]]) {
        const depth = (await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * h * w).map((_, i) => Math.sin(i / 9)), [1, 3, h, w]) })).depth;
        expect(depth.dims).toEqual([1, h, w]);
        outs.push(depth.data as Float32Array);
      }
      // The output follows the picture: a quarter of the pixels at least have values of their own.
      expect(new Set(outs[1]).size).toBeGreaterThan(64 * 96 * 0.25);
    } finally {
      await s.release();
    }
  });
});
