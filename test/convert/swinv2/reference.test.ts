import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ComputedFill } from '../../../src/convert/checkpoint/index.js';
import { attentionMask, shiftedWindowRegions } from '../../../src/convert/swinv2/windows.js';
import { tempDir } from '../../helpers/media.js';
import { requireOrSkip } from '../../helpers/prerequisites.js';
import { refused } from '../helpers.js';
import { expectFixedSizeConversion, midasReference, writeMidasReference, type FixedSizeExpectation } from '../midas-reference.js';

const NAME = 'swin2-tiny-256';
const REF = midasReference(NAME);
const have = existsSync(join(REF, 'keys.json'));
const dir = tempDir('dv-swinv2-ref-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** SwinV2-T 256: stage s is (64 >> s) tokens wide, window 16, shifted blocks by 8 (stages 2 and 3 are one window: no shift). */
function masks(shift: number): ComputedFill {
  return (k) => {
    const m = /layers\.(\d)\.blocks\.\d+\.attn_mask$/.exec(k.key);
    return m ? attentionMask(shiftedWindowRegions(64 >> Number(m[1]), 16, shift), 16) : undefined;
  };
}

/** What the forward pass never reads: the classifier, the final norm, refinenet4's skip unit. */
const UNUSED = /^pretrained\.model\.(norm|head)\.|^scratch\.refinenet4\.resConfUnit1\./;

/** What every conversion of this reference must say and carry. */
const EXPECTED: FixedSizeExpectation = {
  summary: /^converted [\w-]+\.pt: midas-v31-swin2-tiny-256 \(from the keys and shapes\), SwinV2-T 256x256 \(width 96, depths 2,2,6,2, heads 3,6,12,24, window 16\), hooks 1,1,5,1, features 256, ([\d,]+) parameters/,
  unused: UNUSED,
  family: 'swin2-256',
  size: 256,
};

requireOrSkip(`the MiDaS reference state dict and outputs in ${REF}`, have).describe('MiDaS v3.1 SwinV2-T 256 against the official outputs', () => {
  it('converted through the CLI from a file without the derived buffers: every official output to 1e-4 of its range; fixed 256x256 input and the squash spec in the metadata', async () => {
    const ckpt = join(dir, 'dpt_swin2_tiny_256.pt');
    const ref = writeMidasReference(NAME, ckpt);
    await expectFixedSizeConversion(NAME, ref, ckpt, join(dir, 'plain.onnx'), EXPECTED);
  }, 600_000);

  it('a file carrying attn_mask, as timm v0.6.12 saves it, converts to the same outputs', async () => {
    const ckpt = join(dir, 'with-masks.pt');
    const ref = writeMidasReference(NAME, ckpt, { computed: masks(8) });
    expect(ref.keys.filter((k) => k.key.endsWith('attn_mask')).map((k) => k.key)).toEqual([
      'pretrained.model.layers.0.blocks.1.attn_mask',
      'pretrained.model.layers.1.blocks.1.attn_mask',
    ]);
    await expectFixedSizeConversion(NAME, ref, ckpt, join(dir, 'masks.onnx'), EXPECTED);
  }, 600_000);

  it('an attn_mask other than the derived one (shift 4 instead of 8) is refused: one line, exit 1, nothing written', async () => {
    const ckpt = join(dir, 'wrong-masks.pt');
    writeMidasReference(NAME, ckpt, { computed: masks(4) });
    expect(await refused(ckpt, 1)).toMatch(
      /wrong-masks\.pt: pretrained\.model\.layers\.0\.blocks\.1\.attn_mask holds 0 at element 196616, but SwinV2-T 256 derives -100; the checkpoint does not match SwinV2-T 256 \(check --family\)$/,
    );
  }, 600_000);

  it('a tensor whose shape contradicts SwinV2-T is refused, naming the key and both shapes', async () => {
    const ckpt = join(dir, 'wrong-shape.pt');
    const key = 'pretrained.model.layers.2.blocks.3.mlp.fc1.weight';
    writeMidasReference(NAME, ckpt, {
      edit: (entries) => entries.map((e) => (e.key === key ? { ...e, shape: [1024, 384], data: new Float32Array(1024 * 384) } : e)),
    });
    expect(await refused(ckpt, 1)).toMatch(
      /wrong-shape\.pt: pretrained\.model\.layers\.2\.blocks\.3\.mlp\.fc1\.weight is \[1024, 384\] but midas-v31-swin2-tiny-256 SwinV2-T .* needs \[1536, 384\]; the shapes contradict the family \(check --family\)$/,
    );
  }, 600_000);
});
