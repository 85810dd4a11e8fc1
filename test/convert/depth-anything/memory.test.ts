import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertInChild } from '../../../src/bench/convert-child.js';
import { writeTorchCheckpoint } from '../../../src/convert/checkpoint/index.js';
import { tempDir } from '../../helpers/media.js';
import { depthAnythingKeys, VITL } from './state-dict.js';

const dir = tempDir('dv-convert-memory-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('converting streams', () => {
  it('a ViT-L-shaped Depth-Anything checkpoint (1.3 GB) converts with peak RSS under 2x its size + 200 MB', () => {
    const checkpoint = join(dir, 'depth_anything_v2_vitl.pth');
    const keys = depthAnythingKeys(VITL);
    // No data: the writer leaves holes, so the 1.3 GB file costs no disk; reading it still fills every tensor.
    writeTorchCheckpoint(checkpoint, keys.map(({ key, shape }) => ({ key, dtype: 'float32' as const, shape })));
    const size = statSync(checkpoint).size;
    expect(size).toBeGreaterThan(1.3e9);

    const out = join(dir, 'vitl.onnx');
    const { peakRss: rss, parameterCount: parameters } = convertInChild(checkpoint, out);
    const all = keys.reduce((a, k) => a + k.shape.reduce((p, d) => p * d, 1), 0);
    // Everything but mask_token and refinenet4's never-run skip unit is in the model.
    expect(parameters).toBe(all - 1024 - 2 * (256 * 256 * 9 + 256));
    expect(statSync(out).size).toBeGreaterThan(4 * parameters);
    const limit = 2 * size + 200 * 2 ** 20;
    expect(rss, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MB, limit ${(limit / 2 ** 20).toFixed(0)} MB`).toBeLessThanOrEqual(limit);
  }, 900_000);
});
