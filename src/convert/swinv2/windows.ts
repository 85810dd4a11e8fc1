/**
 * The buffers a SwinV2 block derives from its window and shift (timm v0.6.12
 * swin_transformer_v2.py). Checkpoints may or may not carry them; the
 * converter computes them here and checks the file's copies against them.
 * Everything is for a square map of `res` x `res` tokens, row-major.
 */

/** SwinTransformerBlock._calc_window_shift: a window never exceeds the map, and a map one window wide is not shifted. */
export function effectiveWindow(res: number, window: number, shift: number): { window: number; shift: number } {
  const w = res <= window ? res : window;
  return { window: w, shift: res <= w ? 0 : shift };
}

/**
 * WindowAttention.relative_coords_table, [(2w-1)², 2] row-major over
 * (dy, dx) in -(w-1)..w-1: each coordinate divided by (pretrained window - 1)
 * (or w - 1 when there is none), times 8, then sign · log2(|·| + 1) / log2(8).
 * Each step is rounded to float32 as PyTorch computes it in float32.
 */
export function relativeCoordsTable(window: number, pretrainedWindow: number): Float32Array {
  const side = 2 * window - 1;
  const divisor = Math.fround((pretrainedWindow > 0 ? pretrainedWindow : window) - 1);
  const f = Math.fround;
  const out = new Float32Array(side * side * 2);
  const scaled = (c: number): number => {
    const v = f(f(f(c) / divisor) * 8);
    return f(f(Math.sign(v) * f(Math.log2(f(Math.abs(v) + 1)))) / 3);
  };
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      out[(i * side + j) * 2] = scaled(i - (window - 1));
      out[(i * side + j) * 2 + 1] = scaled(j - (window - 1));
    }
  }
  return out;
}

/** WindowAttention.relative_position_index, [w², w²]: the table row of the offset between two tokens of a window. */
export function relativePositionIndex(window: number): Int32Array {
  const n = window * window;
  const out = new Int32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const dy = Math.floor(a / window) - Math.floor(b / window) + window - 1;
      const dx = (a % window) - (b % window) + window - 1;
      out[a * n + b] = dy * (2 * window - 1) + dx;
    }
  }
  return out;
}

/** f(y, x) for every token of a res x res map in window_partition order: window by window (row-major), row-major inside each. */
function inWindowOrder(res: number, window: number, f: (y: number, x: number) => number): Int32Array {
  const per = res / window;
  const out = new Int32Array(res * res);
  let k = 0;
  for (let wy = 0; wy < per; wy++) {
    for (let wx = 0; wx < per; wx++) {
      for (let py = 0; py < window; py++) {
        for (let px = 0; px < window; px++) out[k++] = f(wy * window + py, wx * window + px);
      }
    }
  }
  return out;
}

/**
 * Where each token of the windows comes from: torch.roll by -shift on both
 * axes, then window_partition. out[w·window² + p] is the index in the map of
 * position p (row-major) of window w (row-major). Its inverse is
 * window_reverse followed by the roll back.
 */
export function windowOrder(res: number, window: number, shift: number): Int32Array {
  return inWindowOrder(res, window, (y, x) => ((y + shift) % res) * res + ((x + shift) % res));
}

/** The permutation p^-1 with p^-1[p[i]] = i. */
export function inversePermutation(p: Int32Array): Int32Array {
  const out = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) out[p[i]] = i;
  return out;
}

/**
 * The img_mask of a shifted block, windowed: [windows, window²] region ids.
 * In the rolled map the rows split into [0, res-w), [res-w, res-shift),
 * [res-shift, res), the columns likewise, and region = row part · 3 + column part.
 */
export function shiftedWindowRegions(res: number, window: number, shift: number): Int32Array {
  const part = (c: number): number => (c < res - window ? 0 : c < res - shift ? 1 : 2);
  return inWindowOrder(res, window, (y, x) => part(y) * 3 + part(x));
}

/** SwinTransformerBlock.attn_mask, [windows, w², w²]: 0 where two tokens share a region, -100 where not. */
export function attentionMask(regions: Int32Array, window: number): Float32Array {
  const n = window * window;
  const windows = regions.length / n;
  const out = new Float32Array(windows * n * n);
  for (let w = 0; w < windows; w++) {
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) out[(w * n + a) * n + b] = regions[w * n + a] === regions[w * n + b] ? 0 : -100;
    }
  }
  return out;
}
