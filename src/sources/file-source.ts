import type { FrameSource } from './ffmpeg-source.js';
import { ffmpegSource } from './ffmpeg-source.js';

export interface FileSourceOptions {
  /** Emit at the file's own frame rate, as a live source would (async schedule). */
  readonly pace?: boolean;
  readonly maxInFlight?: number;
  /** Decode only the first N frames. */
  readonly maxFrames?: number;
}

/** Frames of a video or image file, decoded by ffmpeg. */
export function fileSource(path: string, opts: FileSourceOptions = {}): FrameSource {
  return ffmpegSource({
    // -copyts: frames keep the pts stored in the file (an MPEG-TS starts at
    // 1.4 s, an MP4 may start its video late); outputs present them there.
    inputArgs: ['-copyts', '-i', path],
    label: path,
    pace: opts.pace ?? false,
    maxInFlight: opts.maxInFlight ?? 4,
    outputArgs: opts.maxFrames ? ['-frames:v', String(opts.maxFrames)] : [],
  });
}
