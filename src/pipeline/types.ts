import { DepthVideoError } from '../errors.js';
import type { InferenceResult, ModelDescription } from '../inference/session.js';
import type { RenderSettings } from '../render/renderer.js';
import type { SourceInfo } from '../sources/ffmpeg-source.js';
import type { RgbImage, VideoFrame, Yuv420pImage } from '../types.js';

/** The depth a frame is shown with, at frame size. */
export interface FrameDepth {
  readonly width: number;
  readonly height: number;
  /**
   * Normalised depth, 0..1 (1 = near), as coloured; null when no sink reads
   * it (every sink says `wantsDepthUnit: false`, as the encoder does) and
   * no onFrame hook is set: the depth-only yuv420p picture is then made
   * without it leaving the kernels (8 MB a 1080p frame).
   */
  readonly unit: Float32Array | null;
  /** Colour range applied to the (aligned) prediction. */
  readonly lo: number;
  readonly hi: number;
  readonly rawMin: number;
  readonly rawMax: number;
  /** The stabiliser reset its reference on this frame (first frame or scene cut). */
  readonly reset: boolean;
}

/**
 * What every sink receives for every frame, in input order. The pictures and
 * arrays live in buffers the pipeline reuses once every sink's write() has
 * finished: a sink that keeps any of them longer must copy it.
 */
export interface OutputFrame {
  readonly frame: VideoFrame;
  /** The composed output picture (layout), even-sized when the encoder needs it; null unless a sink asked for RGB (`FrameSink.picture`). */
  readonly image: RgbImage | null;
  /** The same picture as yuv420p (BT.601 limited range); null unless a sink asked for it. */
  readonly yuv: Yuv420pImage | null;
  /** True when this frame was inferred; false when it repeats the latest depth (async drop). */
  readonly inferred: boolean;
  /** The depth shown (this frame's own when inferred). */
  readonly depth: FrameDepth;
  /** Raw prediction upsampled to frame size; only on inferred frames, only when a sink asked for it. */
  readonly raw: Float32Array | null;
  readonly inferenceMs: number;
  readonly droppedBefore: number;
  readonly inputSize: { readonly width: number; readonly height: number };
}

export interface PipelineContext {
  readonly source: SourceInfo;
  readonly model: ModelDescription;
  readonly inputSize: { readonly width: number; readonly height: number };
  readonly outputSize: { readonly width: number; readonly height: number };
  /** pts of the first frame, so outputs can keep the input's timeline. */
  readonly firstPts: number;
  /** Render settings at the start (the preview may change them later). */
  readonly render: RenderSettings;
  /** The input file, when there is one (audio is carried over from it). */
  readonly inputPath: string | null;
  /**
   * Runs one more picture (a photo uploaded to the preview) through the run's
   * model. It queues behind the frame being inferred, and the next frame
   * behind it, so the run keeps every other turn instead of sharing the cores
   * with a second model.
   */
  readonly infer: (img: RgbImage) => Promise<InferenceResult>;
}

/** A consumer of output frames: the encoder, the live preview, the recorder. */
export interface FrameSink {
  readonly name: string;
  /** Wants the raw float prediction at frame size on inferred frames. */
  readonly wantsRaw?: boolean;
  /** Reads `frame.data` of every frame, dropped ones too (e.g. a preview showing the input). */
  readonly wantsInputPixels?: boolean;
  /** Reads `depth.unit` (the default, true); false lets the pipeline skip making it when no one else does. */
  readonly wantsDepthUnit?: boolean;
  /**
   * The output picture it reads: `image` (rgb24, the default), `yuv`
   * (yuv420p, what 4:2:0 encoders take, made without an RGB picture in
   * between) or neither ('none').
   */
  readonly picture?: 'rgb24' | 'yuv420p' | 'none';
  /**
   * Sees every frame the moment the source delivers it, before scheduling
   * (frames the async schedule drops included), in capture order. The pixels
   * are valid only during the call; it must not block.
   */
  capture?(frame: VideoFrame): void;
  /** Called once, before the first frame, when geometry and rate are known. */
  start?(ctx: PipelineContext): Promise<void> | void;
  write(out: OutputFrame): Promise<void> | void;
  /** Called once at the end (also after Ctrl-C): finish files, close sockets. */
  finish(interrupted: boolean): Promise<void> | void;
  /** Called instead of finish when the run failed. */
  abort?(): Promise<void> | void;
}

/** `depth.unit` for a sink that reads it (so the pipeline made it); an internal error if it is missing. */
export function depthUnit(depth: FrameDepth): Float32Array {
  if (!depth.unit) throw new DepthVideoError('PIPELINE_CONFIG', 'internal: a sink read depth.unit but the pipeline made none (a sink that reads it must not set wantsDepthUnit: false)');
  return depth.unit;
}
