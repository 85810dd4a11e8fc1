import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readReferenceKeys } from '../../../src/convert/checkpoint/index.js';
import { planConversion } from '../../../src/convert/convert.js';
import { swinV2StateDictShapes } from '../../../src/convert/swinv2/state-dict.js';
import type { StateDict } from '../../../src/convert/weights.js';
import { requireOrSkip } from '../../helpers/prerequisites.js';
import { MIDAS_REFERENCE } from '../helpers.js';

const KEYS = join(MIDAS_REFERENCE, 'swin2-tiny-256', 'keys.json');

/** Shapes only: planning a conversion reads no values unless derived buffers are present, and these have none. */
function shapesOnly(model: 'tiny' | 'base' | 'large'): StateDict {
  const dict = new Map<string, { dtype: string; shape: readonly number[]; readFloat32(): Float32Array }>();
  for (const k of swinV2StateDictShapes(model)) {
    if (!k.attnMask) dict.set(k.key, { dtype: 'float32', shape: k.shape, readFloat32: () => new Float32Array(0) });
  }
  return dict;
}

const elements = (shapes: { shape: readonly number[] }[]): number => shapes.reduce((n, k) => n + k.shape.reduce((a, b) => a * b, 1), 0);

describe('the SwinV2 state dict layout written down from the official modules', () => {
  requireOrSkip(`the reference keys.json ${KEYS}`, existsSync(KEYS)).it('SwinV2-T equals the official state dict of swin2-tiny-256, key for key, shape for shape, in order', () => {
    const ref = readReferenceKeys(KEYS);
    expect(swinV2StateDictShapes('tiny').map((k) => [k.key, k.shape])).toEqual(ref.keys.map((k) => [k.key, k.shape]));
  });

  it("SwinV2-B and -L 384 plan as MiDaS's swin2b24_384 / swin2l24_384: window 24 through 12,12,12,6, 102M and 213M parameters as the MiDaS README lists", () => {
    const base = planConversion(shapesOnly('base'), 'dpt_swin2_base_384.pt');
    expect(base.plan.variant).toBe('midas-v31-swin2-base-384');
    expect(base.plan.summary).toBe('SwinV2-B 384x384 (width 128, depths 2,2,18,2, heads 4,8,16,32, window 24, pretrained windows 12,12,12,6), hooks 1,1,17,1, features 256');
    expect(base.plan.inputSize).toEqual({ width: 384, height: 384 });
    expect(base.plan.runtimeFamily).toBe('swin2-384');
    const large = planConversion(shapesOnly('large'), 'dpt_swin2_large_384.pt');
    expect(large.plan.summary).toMatch(/^SwinV2-L 384x384 \(width 192, depths 2,2,18,2, heads 6,12,24,48, window 24, pretrained windows 12,12,12,6\)/);
    // README "Params (M)": 102 and 213, every tensor of the state dict (buffers apart).
    expect(Math.round(elements(swinV2StateDictShapes('base').filter((k) => !k.attnMask)) / 1e6)).toBe(102);
    expect(Math.round(elements(swinV2StateDictShapes('large').filter((k) => !k.attnMask)) / 1e6)).toBe(213);
    // The ONNX leaves out the classifier, the final norm and refinenet4's skip unit.
    const unused = 2 * 1536 + 1000 * 1536 + 1000 + 2 * (256 * 256 * 9 + 256);
    expect(large.graph.parameterCount).toBe(elements([...shapesOnly('large').values()]) - unused);
  });
});
