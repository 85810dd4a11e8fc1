import type { ColormapName, DepthKind, DepthMap, Interpolation, LayoutName, RgbImage } from '../types.js';
import { renderPixels, type PixelSettings } from './frame-pixels.js';
import { composeLayout, padToEven } from './layout.js';
import { DepthStabilizer, type StabilizeMode, type StabilizedDepth } from '../stabilize/stabilize.js';

export interface RenderSettings {
  readonly colormap: ColormapName;
  /** Far = bright instead of near = bright (whichever way the model's output runs). */
  readonly invert: boolean;
  /** Histogram equalisation of the normalised depth. */
  readonly highContrast: boolean;
  readonly layout: LayoutName;
  readonly stabilize: StabilizeMode;
  /** EMA time constant of the colour range, in inferred frames. */
  readonly stabilizeWindow: number;
}

export interface RenderedDepth {
  /** Normalised depth at frame size, 0..1 (1 = near), as coloured. */
  readonly unit: Float32Array;
  /** The colour picture of the depth alone. */
  readonly depthRgb: RgbImage;
  /** Colour range applied to the (aligned) prediction. */
  readonly lo: number;
  readonly hi: number;
  readonly rawMin: number;
  readonly rawMax: number;
  /** The stabiliser reset its reference on this frame (first frame or scene cut). */
  readonly reset: boolean;
}

/**
 * Turns predictions into pictures: stabilise (at inference size, where it is
 * cheap; upsampling commutes with the affine map), upsample to frame size,
 * normalise, equalise, colour. Settings can change between frames (preview
 * controls) but the stabiliser keeps its history. The stabiliser is the
 * only part that needs the frames in order (`stabilize`); the pipeline runs
 * the rest, `renderPixels`, on worker threads.
 */
export class DepthRenderer {
  private stabilizer: DepthStabilizer;
  private settingsValue: RenderSettings;

  constructor(
    settings: RenderSettings,
    private readonly interpolation: Interpolation,
    private readonly alignCorners: boolean,
    private readonly evenOutput: boolean,
    /** Metric depth grows with distance: its colour range is applied the other way round, so near stays bright. */
    private readonly depthKind: DepthKind = 'relative-inverse-depth',
  ) {
    this.settingsValue = settings;
    this.stabilizer = this.makeStabilizer(settings);
  }

  private makeStabilizer(s: RenderSettings): DepthStabilizer {
    // materialize: false — the colour pass below applies the affine map for free.
    return new DepthStabilizer({ mode: s.stabilize, window: s.stabilizeWindow, lowPct: 2, highPct: 98, materialize: false });
  }

  get settings(): RenderSettings {
    return this.settingsValue;
  }

  update(patch: Partial<RenderSettings>): void {
    const next = { ...this.settingsValue, ...patch };
    if (next.stabilize !== this.settingsValue.stabilize || next.stabilizeWindow !== this.settingsValue.stabilizeWindow) {
      this.stabilizer = this.makeStabilizer(next);
    }
    this.settingsValue = next;
  }

  /** The settings renderPixels needs, as they are now. */
  pixelSettings(): PixelSettings {
    const s = this.settingsValue;
    return {
      colormap: s.colormap, invert: s.invert, highContrast: s.highContrast, layout: s.layout,
      interpolation: this.interpolation, alignCorners: this.alignCorners, evenOutput: this.evenOutput, depthKind: this.depthKind,
    };
  }

  /**
   * The ordered step: the colour range of the next inferred prediction (its
   * data is the prediction itself unless NaN/Inf had to be replaced).
   */
  stabilize(depth: DepthMap): StabilizedDepth {
    return this.stabilizer.update(depth);
  }

  /** Renders one inferred prediction for a frame of the given size. */
  renderDepth(depth: DepthMap, width: number, height: number): RenderedDepth {
    const st = this.stabilize(depth);
    const unit = new Float32Array(width * height);
    const rgb = new Uint8Array(width * height * 3);
    const { rawMin, rawMax } = renderPixels(
      { settings: this.pixelSettings(), width, height, depth: { map: { width: depth.width, height: depth.height, data: st.data }, raw: depth.data, lo: st.lo, hi: st.hi }, frame: null, flickerStep: 0 },
      { unit, raw: null, depthRgb: rgb, rgb: null, yuv: null, flickerUnit: null, flickerRgb: null },
    );
    return { unit, depthRgb: { width, height, data: rgb }, lo: st.lo, hi: st.hi, rawMin, rawMax, reset: st.reset };
  }

  /** The output picture for a frame: layout of input and depth, even-sized when the encoder needs it. */
  compose(input: RgbImage | null, depthRgb: RgbImage): RgbImage {
    const layout = this.settingsValue.layout;
    const img = layout === 'depth' || !input ? depthRgb : composeLayout(layout, input, depthRgb);
    return this.evenOutput ? padToEven(img) : img;
  }
}
