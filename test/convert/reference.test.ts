import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  hashFill,
  lowbias32,
  openCheckpoint,
  readReferenceKeys,
  referenceEntries,
  writeReferenceCheckpoint,
} from '../../src/convert/checkpoint/index.js';
import { tempDir } from '../helpers/media.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { DA_V2_PTH, MIDAS_REFERENCE } from './helpers.js';

/** The README's lowbias32, written out with BigInt arithmetic mod 2^32 (independent of the Math.imul version). */
function readmeHash(index: number, i: number): number {
  const M = 0xffffffffn;
  let h = (BigInt(index) * 0x9e3779b1n + BigInt(i) * 0x85ebca77n) & M;
  h ^= h >> 16n;
  h = (h * 0x7feb352dn) & M;
  h ^= h >> 15n;
  h = (h * 0x846ca68bn) & M;
  h ^= h >> 16n;
  return Number(h);
}

const readmeValue = (index: number, i: number, base: number, amp: number): number =>
  Math.fround(base + amp * ((readmeHash(index, i) / 2 ** 32) * 2 - 1));

describe('keys.json generator', () => {
  it("matches the reference README's test vectors", () => {
    expect([0, 1, 2].map((i) => lowbias32(7, i))).toEqual([1431726239, 977754258, 1265069874]);
    const v = hashFill(3, 0, 0.5, 4);
    [-0.36192331, 0.12183031, -0.43646705, 0.1068997].forEach((want, i) => expect(v[i]).toBeCloseTo(want, 8));
    for (const i of [0, 1, 1000, 123_456_789, 2 ** 31 - 1]) expect(lowbias32(283, i)).toBe(readmeHash(283, i));
    const fill = hashFill(11, 1, 0.05, 200);
    for (let i = 0; i < 200; i++) expect(fill[i]).toBe(readmeValue(11, i, 1, 0.05));
  });
});

requireOrSkip(`the official Depth-Anything-V2 ViT-S checkpoint ${DA_V2_PTH}`, existsSync(DA_V2_PTH)).describe('the official Depth-Anything-V2 ViT-S checkpoint format', () => {
  it('opens with its keys, float32, 24,785,089 parameters, and values that match the raw records', () => {
    const ck = openCheckpoint(DA_V2_PTH);
    try {
      expect(ck.format).toBe('torch-zip');
      expect(ck.wrapper).toBeNull();
      expect(ck.tensors.size).toBe(239);
      const keys = [...ck.tensors.keys()];
      expect(keys.slice(0, 4)).toEqual(['pretrained.cls_token', 'pretrained.pos_embed', 'pretrained.mask_token', 'pretrained.patch_embed.proj.weight']);
      expect(keys).toContain('pretrained.blocks.11.ls2.gamma');
      expect(keys).toContain('depth_head.scratch.refinenet4.resConfUnit2.conv2.weight');
      expect(keys.at(-1)).toBe('depth_head.scratch.output_conv2.2.bias');
      expect(ck.tensors.get('pretrained.pos_embed')!.shape).toEqual([1, 1370, 384]);
      expect(ck.tensors.get('pretrained.patch_embed.proj.weight')!.shape).toEqual([384, 3, 14, 14]);
      let params = 0;
      let sum = 0;
      let sumSq = 0;
      for (const t of ck.tensors.values()) {
        expect(t.dtype).toBe('float32');
        params += t.size;
        const d = t.readFloat32();
        expect(d.length).toBe(t.size);
        for (let i = 0; i < d.length; i++) (sum += d[i]!), (sumSq += d[i]! * d[i]!);
      }
      expect(params).toBe(24_785_089);
      // Sums of every storage record, read independently with Python's zipfile and math.fsum.
      expect(sum).toBeCloseTo(19054.199286485644, 6);
      expect(sumSq).toBeCloseTo(38511.17098847707, 6);
      const cls = ck.tensors.get('pretrained.cls_token')!.readFloat32();
      expect([...cls.subarray(0, 4)]).toEqual([-0.01493830792605877, 0.007007969077676535, 0.008814162574708462, -0.040893036872148514]);
    } finally {
      ck.close();
    }
  });
});

const MIDAS = existsSync(MIDAS_REFERENCE) ? readdirSync(MIDAS_REFERENCE).filter((d) => existsSync(join(MIDAS_REFERENCE, d, 'keys.json'))) : [];

requireOrSkip(`the MiDaS reference keys.json files in ${MIDAS_REFERENCE}`, MIDAS.length > 0).describe('MiDaS reference state dicts rebuilt from keys.json', () => {
  it('every keys.json: hash-filled keys in order, computed buffers left out, parameter count as listed', () => {
    expect(MIDAS.sort()).toEqual(['beit-base-384', 'dpt-hybrid-384', 'dpt-large-384', 'levit-224', 'swin2-tiny-256']);
    for (const name of MIDAS) {
      const ref = readReferenceKeys(join(MIDAS_REFERENCE, name, 'keys.json'));
      const entries = referenceEntries(ref);
      expect(entries.map((e) => e.key)).toEqual(ref.keys.filter((k) => k.fill === 'hash').map((k) => k.key));
      const paramKeys = new Set(ref.keys.filter((k) => k.parameter).map((k) => k.key));
      const params = entries.filter((e) => paramKeys.has(e.key)).reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
      expect(params, name).toBe(ref.parameters);
    }
  });

  it('levit-224 written as a real torch zip reads back: order, shapes, computed buffers from the callback, values by the formula', () => {
    const dir = tempDir('dv-ckpt-ref-');
    const out = join(dir, 'levit.pt');
    try {
      const keysJson = join(MIDAS_REFERENCE, 'levit-224', 'keys.json');
      const ref = writeReferenceCheckpoint(keysJson, out, {
        // BatchNorm counters get a value; the attention bias index tables stay out.
        computed: (k) => (k.key.endsWith('num_batches_tracked') ? BigInt64Array.of(0n) : undefined),
      });
      const ck = openCheckpoint(out);
      try {
        const kept = ref.keys.filter((k) => k.fill === 'hash' || k.key.endsWith('num_batches_tracked'));
        expect(kept.length).toBeLessThan(ref.keys.length);
        expect([...ck.tensors.keys()]).toEqual(kept.map((k) => k.key));
        for (const k of kept) {
          const t = ck.tensors.get(k.key)!;
          expect(t.shape, k.key).toEqual(k.shape);
          expect(t.dtype, k.key).toBe(k.dtype);
        }
        expect([...ck.tensors.get('pretrained.model.patch_embed.0.bn.num_batches_tracked')!.readInt64()]).toEqual([0n]);
        for (const k of [kept[0]!, kept[1]!, kept[kept.length - 2]!, ref.keys.find((x) => x.fill === 'hash' && x.shape.length === 4 && x.index! > 100)!]) {
          if (k.fill !== 'hash') continue;
          const v = ck.tensors.get(k.key)!.readFloat32();
          const probe = [0, 1, 2, v.length >> 1, v.length - 1];
          expect(probe.map((i) => v[i]), k.key).toEqual(probe.map((i) => readmeValue(k.index!, i, k.base!, k.amp!)));
        }
      } finally {
        ck.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
