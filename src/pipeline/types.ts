import type { InferenceResult, ModelDescription } from '../inference/session.js';
import type { RenderSettings, RenderedDepth } from '../render/renderer.js';
import type { SourceInfo } from '../sources/ffmpeg-source.js';
import type { RgbImage, VideoFrame } from '../types.js';

/** What every sink receives for every frame, in input order. */
export interface OutputFrame {
  readonly frame: VideoFrame;
  /** The composed output picture (layout), even-sized when the encoder needs it. */
  readonly image: RgbImage;
  /** True when this frame was inferred; false when it repeats the latest depth (async drop). */
  readonly inferred: boolean;
  /** The depth shown (this frame's own when inferred). */
  readonly depth: RenderedDepth;
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
