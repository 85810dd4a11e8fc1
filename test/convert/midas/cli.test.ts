import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTorchCheckpoint } from '../../../src/convert/checkpoint/index.js';
import { tempDir } from '../../helpers/media.js';
import { refused } from '../helpers.js';
import { BEIT_B_384, DPT_HYBRID, midasKeys, type MidasShape } from './state-dict.js';

const dir = tempDir('dv-midas-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A checkpoint of these shapes with no data (holes: no disk, and nothing is read before the plan holds). */
function checkpoint(name: string, shape: MidasShape, change: (k: { key: string; shape: number[] }) => number[] = (k) => k.shape): string {
  const path = join(dir, name);
  writeTorchCheckpoint(path, midasKeys(shape).map((k) => ({ key: k.key, dtype: 'float32' as const, shape: change(k) })), { overwrite: true });
  return path;
}

describe('depth-video models convert refuses MiDaS checkpoints that contradict their family', () => {
  it('a BEiT block whose bias table is another window\'s', async () => {
    const ckpt = checkpoint('dpt_beit_base_384.pt', BEIT_B_384, (k) => (k.key === 'pretrained.model.blocks.7.attn.relative_position_bias_table' ? [3972, 12] : k.shape));
    expect(await refused(ckpt, 1)).toMatch(
      /^depth-video: .*dpt_beit_base_384\.pt: pretrained\.model\.blocks\.7\.attn\.relative_position_bias_table is \[3972, 12\] but midas-beit-base-384 BEiT-B\/16 .* needs \[2212, 12\]; the shapes contradict the family \(check --family\)$/,
    );
  });

  it('a hybrid whose ResNet stage does not feed layer1_rn', async () => {
    const ckpt = checkpoint('dpt_hybrid_384.pt', DPT_HYBRID, (k) => (k.key === 'scratch.layer1_rn.weight' ? [256, 128, 3, 3] : k.shape));
    expect(await refused(ckpt, 1)).toMatch(/: scratch\.layer1_rn takes 128 channels but ResNet stage 0 gives 256; the checkpoint does not match MiDaS v3\.0 DPT-Hybrid \(check --family\)$/);
  });

  it('--family naming the other MiDaS family', async () => {
    const ckpt = checkpoint('dpt_hybrid_384.pt', DPT_HYBRID);
    expect(await refused(ckpt, 1, ['--family', 'midas-beit'])).toMatch(/: pretrained\.model\.patch_embed\.proj\.weight is \[768, 1024, 1, 1\], expected \[E, 3, 16, 16\]; the checkpoint does not match MiDaS v3\.1 BEiT \(check --family\)$/);
  });
});
