import { describe, expect, it } from 'vitest';
import {
  attentionMask,
  effectiveWindow,
  inversePermutation,
  relativeCoordsTable,
  relativePositionIndex,
  shiftedWindowRegions,
  windowOrder,
} from '../../../src/convert/swinv2/windows.js';

describe('SwinV2 window buffers (timm v0.6.12 swin_transformer_v2.py)', () => {
  it('_calc_window_shift: a map no wider than the window is one unshifted window', () => {
    expect(effectiveWindow(64, 16, 8)).toEqual({ window: 16, shift: 8 });
    expect(effectiveWindow(16, 16, 8)).toEqual({ window: 16, shift: 0 });
    expect(effectiveWindow(12, 24, 12)).toEqual({ window: 12, shift: 0 });
  });

  it('relative_coords_table: c / (pretrained window - 1) · 8, then sign · log2(|·| + 1) / 3, row-major over (dy, dx)', () => {
    // Window 2, no pretraining window: offsets -1..1 become ±8 -> ±log2(9)/3.
    const t = relativeCoordsTable(2, 0);
    const e = Math.log2(9) / 3;
    expect(t.length).toBe(9 * 2);
    const at = (i: number, j: number): [number, number] => [t[(i * 3 + j) * 2], t[(i * 3 + j) * 2 + 1]];
    expect(at(0, 0)[0]).toBeCloseTo(-e, 6);
    expect(at(0, 0)[1]).toBeCloseTo(-e, 6);
    expect(at(1, 1)).toEqual([0, 0]);
    expect(at(0, 2)[0]).toBeCloseTo(-e, 6);
    expect(at(0, 2)[1]).toBeCloseTo(e, 6);
    // SwinV2-B/L 384: window 24 read through a 12-wide pretraining window, so the far corner goes past 8.
    const big = relativeCoordsTable(24, 12);
    expect(big[0]).toBeCloseTo(-Math.log2((23 / 11) * 8 + 1) / 3, 6);
    expect(big[big.length - 1]).toBeCloseTo(Math.log2((23 / 11) * 8 + 1) / 3, 6);
  });

  it('relative_position_index: (dy + w - 1) · (2w - 1) + (dx + w - 1)', () => {
    expect([...relativePositionIndex(2)]).toEqual([4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4]);
    const idx = relativePositionIndex(16);
    expect(idx.length).toBe(256 * 256);
    expect(Math.max(...idx)).toBe(31 * 31 - 1);
    expect(idx[0]).toBe(15 * 31 + 15);
  });

  it('roll by -shift then window_partition is a permutation, and its inverse undoes it', () => {
    // 4x4 map, window 2, shift 1: the first window is rolled rows 1-2, columns 1-2.
    const order = windowOrder(4, 2, 1);
    expect([...order.subarray(0, 4)]).toEqual([5, 6, 9, 10]);
    expect([...order.subarray(12)]).toEqual([15, 12, 3, 0]);
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
    const back = inversePermutation(order);
    for (let i = 0; i < 16; i++) expect(order[back[i]]).toBe(i);
    // No shift, one window: the identity.
    expect([...windowOrder(4, 4, 0)]).toEqual([...Array(16).keys()]);
  });

  it('attn_mask: regions of the rolled map split at res - window and res - shift; -100 across regions', () => {
    // img_mask of a 4x4 map, window 2, shift 1: rows/columns split [0, 2), [2, 3), [3, 4).
    expect([...shiftedWindowRegions(4, 2, 1)]).toEqual([0, 0, 0, 0, 1, 2, 1, 2, 3, 3, 6, 6, 4, 5, 7, 8]);
    const mask = attentionMask(shiftedWindowRegions(4, 2, 1), 2);
    expect(mask.length).toBe(4 * 4 * 4);
    expect([...mask.subarray(0, 16)]).toEqual(new Array(16).fill(0));
    // Window 1 holds regions [1, 2, 1, 2]: tokens 0 and 2 share one, 1 and 3 the other.
    expect([...mask.subarray(16, 32)]).toEqual([0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0]);
    // Window 3 holds four regions: only the diagonal is open.
    expect([...mask.subarray(48, 64)]).toEqual([0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0]);
  });
});
