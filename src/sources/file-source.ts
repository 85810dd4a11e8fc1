import { orientationFilter, type Orientation } from '../ffmpeg/exif-orientation.js';
import type { MediaInfo } from '../ffmpeg/probe.js';
import type { YuvColour } from '../types.js';
import type { FrameSource } from './ffmpeg-source.js';
import { ffmpegSource } from './ffmpeg-source.js';

export interface FileSourceOptions {
  /** Emit at the file's own frame rate, as a live source would (async schedule). */
  readonly pace?: boolean;
  readonly maxInFlight?: number;
  /** Decode only the first N frames. */
  readonly maxFrames?: number;
  /**
   * Keep the frames in yuv420p, as stored, in this colour (see nativeYuv);
   * absent or null: ffmpeg converts them to RGB24.
   */
  readonly yuv?: YuvColour | null;
  /** A still's EXIF orientation (probe.ts): it is turned upright as it is decoded. */
  readonly orientation?: Orientation;
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
    yuv: opts.yuv ?? null,
    filters: orientationFilter(opts.orientation ?? 1),
  });
}

/** Matrices whose conversion to RGB yuv-to-rgb.ts does as ffmpeg does (untagged streams are BT.601 to ffmpeg). */
const MATRICES: Record<string, YuvColour['matrix']> = { bt709: 'bt709', bt470bg: 'bt601', smpte170m: 'bt601' };

/**
 * The colour in which a video's frames can stay yuv420p, as decoded, or null
 * when ffmpeg should convert them to RGB24: stills (the reference-exact
 * photo path stays RGB), other pixel formats (4:2:2, 4:4:4, 10-bit, RGB,
 * grey), odd sizes (ffmpeg converts those with interpolated chroma), and
 * matrices or ranges yuv-to-rgb.ts does not reproduce. H.264 from cameras
 * and phones, yuv420p or yuvj420p in BT.601 or BT.709, stays yuv420p.
 */
export function nativeYuv(media: MediaInfo): YuvColour | null {
  const v = media.video;
  if (media.still || v.width % 2 || v.height % 2) return null;
  const matrix = v.colourSpace === null ? 'bt601' : MATRICES[v.colourSpace];
  if (!matrix) return null;
  if (v.pixelFormat === 'yuvj420p' && v.colourRange !== 'tv') return { matrix, range: 'full' };
  if (v.pixelFormat === 'yuv420p' && v.colourRange !== 'pc') return { matrix, range: 'limited' };
  return null;
}
