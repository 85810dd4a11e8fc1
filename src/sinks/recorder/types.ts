import type { DepthKind, PreprocessSpec } from '../../types.js';

/** 'png16' (default): depth/NNNNNN.png; 'float32': raw/NNNNNN.npy; 'both'; 'ffv1': one depth.mkv. */
export type RecordFormat = 'png16' | 'float32' | 'both' | 'ffv1';

export const RECORD_FORMATS: readonly RecordFormat[] = ['png16', 'float32', 'both', 'ffv1'];

export interface RecordingSegment {
  startFrame: number;
  /** First frame index *not* recorded (exclusive), null while the segment is open. */
  endFrame: number | null;
}

export interface RecordingManifest {
  version: 1;
  /** true only once close() finished; false means the writer was interrupted. */
  complete: boolean;
  tool: { name: 'depth-video'; version: string };
  /** `output`: what the raw values mean; absent in recordings made before it was recorded (relative inverse depth). */
  model: { name: string; path: string; sha256: string | null; untrained: boolean; output?: DepthKind };
  input: { path: string; width: number; height: number; frameRate: number | null };
  frameSize: { width: number; height: number };
  inferenceSize: { width: number; height: number };
  spec: PreprocessSpec;
  render: Record<string, unknown>;
  stabilize: Record<string, unknown> | null;
  format: RecordFormat;
  segments: RecordingSegment[];
  startedAt: string;
  endedAt: string | null;
  framesRecorded: number;
  /** Why recording ended early (disk full, size limit, ...) or the caller's reason; null for a normal end. */
  stoppedReason: string | null;
}

/** What is known of every recorded frame, in frames.jsonl and from the pipeline alike. */
export interface FrameMeta {
  index: number;
  /** Source presentation time, seconds. */
  pts: number;
  /** Date.now() when the frame was inferred. */
  wallTime: number;
  inferMs: number;
  /** Range of the raw model output, so depth16 can be mapped back approximately. */
  rawMin: number;
  rawMax: number;
  /** Source frames dropped by the scheduler since the previous inferred frame. */
  droppedBefore: number;
  width: number;
  height: number;
}

/** What the pipeline hands the recorder for each inferred frame. */
export interface RecordedFrame extends FrameMeta {
  /** Normalised as rendered, 0..65535, width*height, row-major. */
  depth16: Uint16Array;
  /** Model output upsampled to frame size, width*height, row-major. */
  raw: Float32Array;
}

/** One line of frames.jsonl. File names are relative to the recording dir. */
export interface FrameRecord extends FrameMeta {
  /** 'depth/000123.png', or 'depth.mkv' with format ffv1. */
  depth?: string;
  /** 'raw/000123.npy'. */
  raw?: string;
  /** With ffv1: 0-based position of this frame in depth.mkv. */
  mkvFrame?: number;
}

export type ManifestInit = Omit<RecordingManifest,
  'complete' | 'segments' | 'startedAt' | 'endedAt' | 'framesRecorded' | 'stoppedReason' | 'version' | 'format'>;
