/** A decoded picture: packed RGB24, row-major, no row padding. */
export interface RgbImage {
  /** Absent on pictures that were never anything else (stills, the photo path, outputs). */
  readonly format?: 'rgb24';
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array; // width * height * 3
}

/**
 * How the Y'CbCr samples of a picture map to RGB: the matrix (BT.601 or
 * BT.709 coefficients) and the range (limited: Y 16..235, chroma 16..240;
 * full: 0..255).
 */
export interface YuvColour {
  readonly matrix: 'bt601' | 'bt709';
  readonly range: 'limited' | 'full';
}

/**
 * A picture in planar yuv420p: the Y plane (width x height), then U and V
 * (width/2 x height/2 each); both sides even. Decoded frames carry their
 * stream's colour; the pictures depth-video writes are BT.601 limited range
 * (see render/yuv.ts).
 */
export interface Yuv420pImage {
  readonly format: 'yuv420p';
  readonly colour: YuvColour;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A frame's pixels in either format; `format` says which. */
export type FrameImage = RgbImage | Yuv420pImage;

/** Where a frame sits on the input timeline, and how it goes back to its source. */
export interface FrameTiming {
  /** 0-based position in decode (= presentation) order. */
  readonly index: number;
  /** Presentation time in seconds, as the input stores it. */
  readonly pts: number;
  /** performance.now() when the frame was fully read from the source. */
  readonly captureTime: number;
  /**
   * Gives the frame's slot back to its source. Sources bound how many frames
   * are alive at once (that is the backpressure); every frame must be released
   * exactly once when the pipeline is done with it. Extra calls are ignored.
   */
  release(): void;
}

/**
 * One frame from a source: RGB24, or yuv420p when the video is stored so and
 * the source was asked to keep it (no conversion in the decoder).
 */
export type VideoFrame = FrameImage & FrameTiming;

/**
 * What a model's output means: relative inverse depth (larger = nearer, the
 * MiDaS / Depth-Anything convention) or metric depth in metres (larger =
 * farther, Depth-Anything V2 metric). Pictures show near as bright either way.
 */
export type DepthKind = 'relative-inverse-depth' | 'metric-depth';

/** A model's prediction (see DepthKind for its direction), one float per pixel, row-major. */
export interface DepthMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export type ResizeMethod = 'lower_bound' | 'upper_bound' | 'minimal';
export type Interpolation = 'bilinear' | 'bicubic';

/**
 * How a family's authors prepared images for the network (MiDaS `Resize` +
 * `NormalizeImage` semantics) and how they brought the prediction back.
 */
export interface PreprocessSpec {
  /** Target net width/height before aspect handling (e.g. 384, 518). */
  readonly width: number;
  readonly height: number;
  /** Keep the frame's aspect ratio (true) or squash to width x height (false). */
  readonly keepAspect: boolean;
  /** With keepAspect: which side bounds the size (MiDaS resize_method). */
  readonly resizeMethod: ResizeMethod;
  /** Sides are rounded to a multiple of this (1 = any size). */
  readonly multipleOf: number;
  /** Per-channel mean and std applied to [0,1] pixels, in RGB order. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Channel order the network expects. */
  readonly channelOrder: 'RGB' | 'BGR';
  /** Interpolation for resizing the input picture. */
  readonly inputInterpolation: Interpolation;
  /** Interpolation for bringing the prediction back to frame size. */
  readonly outputInterpolation: Interpolation;
  /** align_corners of the upsampling, as the family's reference code does it. */
  readonly outputAlignCorners: boolean;
  /**
   * Feed frames at their own size, ignoring width/height/multipleOf. Only the
   * analytic test model uses this, so tests can predict every output pixel.
   */
  readonly native?: boolean;
}

export type ColormapName = 'inferno' | 'magma' | 'viridis' | 'turbo' | 'spectral' | 'gray';
export type LayoutName = 'depth' | 'side-by-side' | 'stacked';
export type ScheduleMode = 'async' | 'sync';
