import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertInChild } from '../../../src/bench/convert-child.js';
import { writeTorchCheckpoint } from '../../../src/convert/checkpoint/index.js';
import { zeroSwinV2Checkpoint } from '../../../src/convert/swinv2/state-dict.js';
import { tempDir } from '../../helpers/media.js';

const dir = tempDir('dv-swinv2-memory-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('converting SwinV2 streams', () => {
  it('a full-size SwinV2-L 384 checkpoint (850 MB, with its attn_mask buffers) converts with peak RSS under 2x its size + 200 MB', () => {
    const checkpoint = join(dir, 'dpt_swin2_large_384.pt');
    writeTorchCheckpoint(checkpoint, zeroSwinV2Checkpoint('large'));
    const size = statSync(checkpoint).size;
    expect(size).toBeGreaterThan(850e6);

    const out = join(dir, 'swin2-large.onnx');
    const { peakRss: rss, variant } = convertInChild(checkpoint, out);
    expect(variant).toBe('midas-v31-swin2-large-384');
    expect(statSync(out).size).toBeGreaterThan(800e6);
    const limit = 2 * size + 200 * 2 ** 20;
    expect(rss, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MB, limit ${(limit / 2 ** 20).toFixed(0)} MB`).toBeLessThanOrEqual(limit);
  }, 900_000);
});
