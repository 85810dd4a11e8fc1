import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readReferenceKeys } from '../../src/convert/checkpoint/index.js';
import { CONVERTER_FAMILIES, selectFamily } from '../../src/convert/registry.js';
import type { StateDict } from '../../src/convert/weights.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { MIDAS_REFERENCE, thrown } from './helpers.js';

/** The key set of a reference state dict, derived buffers included (shapes only: detection reads no values). */
function referenceDict(name: string, rename: (key: string) => string | null = (k) => k): StateDict {
  const dict = new Map<string, { dtype: string; shape: readonly number[]; readFloat32(): Float32Array }>();
  for (const k of readReferenceKeys(join(MIDAS_REFERENCE, name, 'keys.json')).keys) {
    const key = rename(k.key);
    if (key !== null) dict.set(key, { dtype: k.dtype, shape: k.shape, readFloat32: () => new Float32Array(0) });
  }
  return dict;
}

const detecting = (dict: StateDict): string[] => CONVERTER_FAMILIES.filter((f) => f.detect(new Set(dict.keys()))).map((f) => f.name);

requireOrSkip(`the MiDaS reference state dicts in ${MIDAS_REFERENCE}`, existsSync(MIDAS_REFERENCE)).describe('SwinV2 and LeViT are told apart from every other MiDaS checkpoint', () => {
  it('each reference state dict is claimed by its own family only; SwinV2 and LeViT claim no other', () => {
    expect(detecting(referenceDict('swin2-tiny-256'))).toEqual(['midas-swin2']);
    expect(detecting(referenceDict('levit-224'))).toEqual(['midas-levit']);
    const others = readdirSync(MIDAS_REFERENCE).filter((n) => !['swin2-tiny-256', 'levit-224'].includes(n));
    expect(others.length).toBeGreaterThanOrEqual(3);
    for (const name of others) expect(detecting(referenceDict(name)).filter((f) => /swin2|levit/.test(f)), name).toEqual([]);
  });

  it('a Swin (v1) state dict, with a relative position bias table instead of the logit scale and CPB MLP, is not taken for SwinV2', () => {
    // MiDaS's swinl12_384 has this layout: WindowAttention of timm's SwinTransformer v1.
    const v1 = referenceDict('swin2-tiny-256', (k) =>
      /attn\.(logit_scale|cpb_mlp\.0\.bias|cpb_mlp\.2\.weight|q_bias|v_bias)$/.test(k) ? null : k.replace(/attn\.cpb_mlp\.0\.weight$/, 'attn.relative_position_bias_table'),
    );
    expect(detecting(v1)).toEqual([]);
    const err = thrown(() => selectFamily(v1, 'dpt_swin_large_384.pt'));
    expect(err.code).toBe('CHECKPOINT_UNKNOWN');
    // Recognised for what it is, with the families that do convert.
    expect(err.message).toMatch(/^dpt_swin_large_384\.pt: a MiDaS v3\.1 Swin \(v1\) checkpoint \(dpt_swin_large_384\): depth-video cannot convert this family; it converts .*midas-swin2, midas-levit/);
  });
});
