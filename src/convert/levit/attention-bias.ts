/**
 * LeViT's attention_bias_idxs (timm v0.6.12 levit.py): each query q and key
 * k of a res x res map (queries every `stride`-th row and column, for the
 * subsampling blocks) read the learned bias of their offset,
 * |qy − ky| · res + |qx − kx|. [ceil(res / stride)², res²], row-major.
 */
export function attentionBiasIndex(res: number, stride: number): Int32Array {
  const resOut = Math.ceil(res / stride);
  const out = new Int32Array(resOut * resOut * res * res);
  let i = 0;
  for (let qy = 0; qy < res; qy += stride) {
    for (let qx = 0; qx < res; qx += stride) {
      for (let ky = 0; ky < res; ky++) {
        for (let kx = 0; kx < res; kx++) out[i++] = Math.abs(qy - ky) * res + Math.abs(qx - kx);
      }
    }
  }
  return out;
}
