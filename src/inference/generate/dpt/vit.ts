/**
 * Shape of a ViT encoder as DPT uses it (the generated models, Depth-Anything's
 * DINOv2, MiDaS's timm ViTs). Parts that only some encoders have are options.
 */
export interface VitConfig {
  /** Patch-embedding conv's kernel and stride (14 or 16). */
  readonly patchSize: number;
  readonly embedDim: number;
  /** Number of transformer blocks. */
  readonly depth: number;
  readonly heads: number;
  /** Hidden width of each block's feed-forward network. */
  readonly mlpHidden: number;
  /** `mlp`: fc1, GELU, fc2. `swiglu`: DINOv2 ViT-G's w12 (SiLU gate), w3. */
  readonly ffn: 'mlp' | 'swiglu';
  /** DINOv2's per-channel LayerScale (`ls1.gamma`, `ls2.gamma`) on both residual branches. */
  readonly layerScale: boolean;
  /** The learned position embeddings cover a posGrid x posGrid patch grid. */
  readonly posGrid: number;
  /**
   * How they are brought to the input's grid: `bicubic` resizes to the grid
   * exactly; `bilinear` too, bilinearly (MiDaS's `_resize_pos_embed` for timm
   * ViTs); `dinov2` does what DINOv2's interpolate_pos_encoding does
   * (bicubic by the scale factor (grid + 0.1) / posGrid, and no resize at
   * all for a square input of the training grid). `none`: the encoder has no
   * absolute position embeddings (BEiT biases each block's attention instead).
   */
  readonly posEmbedResize: 'bicubic' | 'bilinear' | 'dinov2' | 'none';
  /**
   * Attention input biases: `qkv` one fused bias (timm ViT, DINOv2);
   * `qv` separate q and v biases and none for k (BEiT's q_bias, v_bias).
   * Default `qkv`.
   */
  readonly qkvBias?: 'qkv' | 'qv';
}
