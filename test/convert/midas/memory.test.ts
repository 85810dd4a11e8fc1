import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTorchCheckpoint } from '../../../src/convert/checkpoint/index.js';
import { convertInChild } from '../../../src/bench/convert-child.js';
import { tempDir } from '../../helpers/media.js';
import { relativePositionIndex } from '../../../src/convert/beit/index.js';
import { BEIT_L_512, midasKeys } from './state-dict.js';

const dir = tempDir('dv-midas-memory-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('converting MiDaS checkpoints streams', () => {
  it('a BEiT-L 512-shaped checkpoint (1.47 GiB with its stored indices, as dpt_beit_large_512.pt) converts with peak RSS under 2x its size + 200 MB', () => {
    const checkpoint = join(dir, 'dpt_beit_large_512.pt');
    // With the relative_position_index buffers timm stores (24 x 1025² int64): 1.47 GiB, the released file's size.
    const keys = midasKeys({ ...BEIT_L_512, withIndex: true });
    const index = BigInt64Array.from(relativePositionIndex(32, 32), (v) => BigInt(v));
    // No float data: the writer leaves holes, so the file costs little disk; reading it still fills every tensor.
    writeTorchCheckpoint(
      checkpoint,
      keys.map(({ key, shape, dtype }) => (dtype === 'int64' ? { key, dtype, shape, data: index } : { key, dtype, shape })),
    );
    const size = statSync(checkpoint).size;
    expect(size / 2 ** 30).toBeCloseTo(1.47, 2);

    const out = join(dir, 'beit-l-512.onnx');
    const { peakRss: rss, parameterCount: parameters, variant } = convertInChild(checkpoint, out);
    expect(variant).toBe('midas-beit-large-512');
    const all = keys.filter((k) => k.dtype === 'float32').reduce((a, k) => a + k.shape.reduce((p, d) => p * d, 1), 0);
    // Every float tensor but the classifier (fc_norm, head) and refinenet4's never-run skip unit is in the model.
    expect(parameters).toBe(all - 2 * 1024 - (1000 * 1024 + 1000) - 2 * (256 * 256 * 9 + 256));
    expect(statSync(out).size).toBeGreaterThan(4 * parameters);
    const limit = 2 * size + 200 * 2 ** 20;
    expect(rss, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MB, limit ${(limit / 2 ** 20).toFixed(0)} MB`).toBeLessThanOrEqual(limit);
    console.log(`BEiT-L 512: ${(size / 2 ** 30).toFixed(2)} GiB checkpoint, ${parameters} parameters, peak RSS ${(rss / 2 ** 20).toFixed(0)} MB (limit ${(limit / 2 ** 20).toFixed(0)} MB)`);
  }, 1_500_000);
});
