import { describe, expect, it } from 'vitest';
import { FAMILY_NAMES, FAMILY_SPECS, specForFamily } from '../../src/inference/families.js';
import { computeInputSize as netInputSize } from '../../src/inference/preprocess.js';
import { loadManifest } from '../../src/models/manifest.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

describe('family specs', () => {
  it('MiDaS v2.1 small/large: upper_bound, x32, ImageNet, bicubic in/out, align false', () => {
    for (const [f, size] of [['midas-v21-small', 256], ['midas-v21', 384]] as const) {
      const s = specForFamily(f);
      expect([s.width, s.height, s.keepAspect, s.resizeMethod, s.multipleOf]).toEqual([size, size, true, 'upper_bound', 32]);
      expect(s.mean).toEqual(IMAGENET_MEAN);
      expect(s.std).toEqual(IMAGENET_STD);
      expect([s.inputInterpolation, s.outputInterpolation, s.outputAlignCorners]).toEqual(['bicubic', 'bicubic', false]);
    }
  });

  it('DPT / BEiT keep aspect with minimal resize; Swin2 and LeViT squash; all 0.5/0.5 x32', () => {
    const expected = { dpt: [384, true], 'beit-512': [512, true], 'beit-384': [384, true], 'swin2-384': [384, false], 'swin2-256': [256, false], 'levit-224': [224, false] } as const;
    for (const [f, [size, keep]] of Object.entries(expected)) {
      const s = FAMILY_SPECS[f as keyof typeof expected];
      expect([s.width, s.height, s.keepAspect, s.resizeMethod, s.multipleOf], f).toEqual([size, size, keep, 'minimal', 32]);
      expect(s.mean).toEqual([0.5, 0.5, 0.5]);
      expect(s.std).toEqual([0.5, 0.5, 0.5]);
      expect(s.outputInterpolation).toBe('bicubic');
    }
  });

  it('Depth-Anything: 518 lower_bound x14, ImageNet, bicubic in, bilinear align_corners out', () => {
    const s = specForFamily('depth-anything');
    expect([s.width, s.height, s.keepAspect, s.resizeMethod, s.multipleOf]).toEqual([518, 518, true, 'lower_bound', 14]);
    expect(s.mean).toEqual(IMAGENET_MEAN);
    expect([s.inputInterpolation, s.outputInterpolation, s.outputAlignCorners]).toEqual(['bicubic', 'bilinear', true]);
  });

  it('netInputSize follows Resize.get_size (numpy round-half-even included)', () => {
    expect(netInputSize(specForFamily('depth-anything'), 1920, 1080)).toEqual({ width: 924, height: 518 });
    // 1080 * 256/1920 = 144 = 4.5 * 32: numpy rounds 4.5 to 4.
    expect(netInputSize(specForFamily('midas-v21-small'), 1920, 1080)).toEqual({ width: 256, height: 128 });
    expect(netInputSize(specForFamily('dpt'), 640, 480)).toEqual({ width: 512, height: 384 });
    expect(netInputSize(specForFamily('swin2-384'), 640, 480)).toEqual({ width: 384, height: 384 });
    expect(netInputSize(specForFamily('depth-anything'), 480, 640)).toEqual({ width: 518, height: 686 });
  });

  it('every manifest entry has a known family and a complete spec', () => {
    const m = loadManifest();
    expect(m.models.length).toBeGreaterThanOrEqual(15);
    for (const e of m.models) {
      expect(FAMILY_NAMES).toContain(e.family);
      expect(e.spec.mean).toHaveLength(3);
      expect(e.sha256 === null || /^[0-9a-f]{64}$/.test(e.sha256), e.name).toBe(true);
      expect(e.url !== null || typeof e.pytorchUrl === 'string', e.name).toBe(true);
      if (e.license.includes('NC')) expect(e.restricted, e.name).toBe(true);
    }
    expect(m.models.find((e) => e.name === 'depth-anything-v2-large')?.restricted).toBe(true);
  });
});
