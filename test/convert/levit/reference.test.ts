import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ComputedFill } from '../../../src/convert/checkpoint/index.js';
import { attentionBiasIndex } from '../../../src/convert/levit/attention-bias.js';
import { tempDir } from '../../helpers/media.js';
import { requireOrSkip } from '../../helpers/prerequisites.js';
import { refused } from '../helpers.js';
import { expectFixedSizeConversion, midasReference, writeMidasReference, type FixedSizeExpectation } from '../midas-reference.js';

const NAME = 'levit-224';
const REF = midasReference(NAME);
const have = existsSync(join(REF, 'keys.json'));
const dir = tempDir('dv-levit-ref-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The buffers timm saves: BatchNorm counters, and attention_bias_idxs ([queries, keys]; subsampling blocks query every 2nd row and column). */
function buffers(index: (res: number, stride: number) => Int32Array): ComputedFill {
  return (k) => {
    if (k.key.endsWith('num_batches_tracked')) return BigInt64Array.of(31_337n);
    if (!k.key.endsWith('attention_bias_idxs')) return undefined;
    const [queries, keys] = k.shape;
    return BigInt64Array.from(index(Math.sqrt(keys), queries === keys ? 1 : 2), (v) => BigInt(v));
  };
}

/** What the forward pass never reads: the two classifiers, the blocks after the last hook (21), refinenet3's skip unit (three maps). */
const UNUSED = /^pretrained\.model\.(head|head_dist|blocks\.2[2-7])\.|^scratch\.refinenet3\.resConfUnit1\./;

/** What every conversion of this reference must say and carry. */
const EXPECTED: FixedSizeExpectation = {
  summary: /^converted [\w-]+\.pt: midas-v31-levit-224 \(from the keys and shapes\), LeViT-384 224x224 \(widths 384,512,768, heads 6,9,12, 28 blocks\), hooks 3,11,21, features 256, head 64\/8, ([\d,]+) parameters/,
  unused: UNUSED,
  family: 'levit-224',
  size: 224,
};

requireOrSkip(`the MiDaS reference state dict and outputs in ${REF}`, have).describe('MiDaS v3.1 LeViT-224 against the official outputs', () => {
  it('converted through the CLI from a file without the derived buffers: every official output to 1e-4 of its range; fixed 224x224 input and the squash spec in the metadata', async () => {
    const ckpt = join(dir, 'dpt_levit_224.pt');
    const ref = writeMidasReference(NAME, ckpt);
    await expectFixedSizeConversion(NAME, ref, ckpt, join(dir, 'plain.onnx'), EXPECTED);
  }, 600_000);

  it('a file carrying attention_bias_idxs and num_batches_tracked, as timm saves them, converts to the same outputs', async () => {
    const ckpt = join(dir, 'with-buffers.pt');
    const ref = writeMidasReference(NAME, ckpt, { computed: buffers(attentionBiasIndex) });
    expect(ref.keys.filter((k) => k.key.endsWith('attention_bias_idxs')).map((k) => k.shape)).toContainEqual([49, 196]);
    await expectFixedSizeConversion(NAME, ref, ckpt, join(dir, 'buffers.onnx'), EXPECTED);
  }, 600_000);

  it('attention_bias_idxs other than the derived ones (signed offsets) are refused: one line, exit 1, nothing written', async () => {
    const ckpt = join(dir, 'wrong-idxs.pt');
    // (qy - ky) * res + (qx - kx), without LeViT's absolute values.
    const signed = (res: number, stride: number): Int32Array => {
      const out: number[] = [];
      for (let qy = 0; qy < res; qy += stride) for (let qx = 0; qx < res; qx += stride) for (let ky = 0; ky < res; ky++) for (let kx = 0; kx < res; kx++) out.push((qy - ky) * res + (qx - kx));
      return Int32Array.from(out);
    };
    writeMidasReference(NAME, ckpt, { computed: buffers(signed) });
    expect(await refused(ckpt, 1)).toMatch(
      /wrong-idxs\.pt: pretrained\.model\.blocks\.0\.m\.attention_bias_idxs holds -1 at element 1, but LeViT-224 derives 1; the checkpoint does not match LeViT-224 \(check --family\)$/,
    );
  }, 600_000);

  it('a decoder whose input channels contradict the hooked blocks is refused, naming both', async () => {
    const ckpt = join(dir, 'wrong-decoder.pt');
    const key = 'scratch.layer2_rn.weight';
    writeMidasReference(NAME, ckpt, {
      edit: (entries) => entries.map((e) => (e.key === key ? { ...e, shape: [256, 384, 3, 3], data: new Float32Array(256 * 384 * 9) } : e)),
    });
    expect(await refused(ckpt, 1)).toMatch(
      /wrong-decoder\.pt: scratch\.layerN_rn take 384\/384\/768 channels, blocks 3, 11, 21 give 384\/512\/768; the checkpoint does not match MiDaS v3\.1 LeViT \(check --family\)$/,
    );
  }, 600_000);
});
