import { describe, expect, it } from 'vitest';
import { attentionBiasIndex } from '../../../src/convert/levit/attention-bias.js';

describe('LeViT attention_bias_idxs (timm v0.6.12 levit.py)', () => {
  it('Attention: |dy| · res + |dx| over every pair of a res x res map', () => {
    const idx = attentionBiasIndex(2, 1);
    expect([...idx]).toEqual([0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0]);
    const big = attentionBiasIndex(14, 1);
    expect(big.length).toBe(196 * 196);
    expect(Math.max(...big)).toBe(13 * 14 + 13);
  });

  it('AttentionSubsample: queries on every 2nd row and column, ceil(res / 2)² of them', () => {
    // res 3, stride 2: queries (0,0) (0,2) (2,0) (2,2); the second row is query (0,2) against all 9 keys.
    const idx = attentionBiasIndex(3, 2);
    expect(idx.length).toBe(4 * 9);
    expect([...idx.subarray(9, 18)]).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6]);
    // levit_384's subsampling blocks: 14 -> 7 and 7 -> 4.
    expect(attentionBiasIndex(14, 2).length).toBe(49 * 196);
    expect(attentionBiasIndex(7, 2).length).toBe(16 * 49);
  });
});
