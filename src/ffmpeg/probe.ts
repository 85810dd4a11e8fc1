import { open, stat } from 'node:fs/promises';
import { DepthVideoError } from '../errors.js';
import { runFfmpeg } from './binary.js';
import { jpegOrientation, orientationSwapsSides, type Orientation } from './exif-orientation.js';
import { mp4FileFrameCount } from './mp4-index.js';

export interface Rational {
  readonly num: number;
  readonly den: number;
}

export interface MediaInfo {
  readonly path: string;
  readonly format: string;
  /** Container duration in seconds, when the container states one. */
  readonly duration: number | null;
  readonly startTime: number;
  readonly video: {
    readonly codec: string;
    readonly width: number;
    readonly height: number;
    /** Average frame rate as ffmpeg reports it (rounded, e.g. 29.97); exact rates come from the decoder. */
    readonly fps: number | null;
    /** The decoder's pixel format (yuv420p, yuvj420p, yuv422p10le, rgb24, …); null when not stated. */
    readonly pixelFormat: string | null;
    /** The colour matrix the stream is tagged with (bt709, smpte170m, bt470bg, …); null when untagged. */
    readonly colourSpace: string | null;
    /** The tagged range: tv (limited) or pc (full); null when untagged. */
    readonly colourRange: 'tv' | 'pc' | null;
  };
  readonly audio: { readonly codec: string } | null;
  /** A single picture (png, jpeg, …) rather than a video stream. */
  readonly still: boolean;
  /**
   * A JPEG's EXIF orientation (1 = upright; always 1 for videos). The
   * video's width and height above are already those of the upright picture.
   */
  readonly orientation: Orientation;
  /**
   * Frames expected: an MP4's own sample count, else the container's
   * duration × fps (which also covers an audio track that runs longer than
   * the video). An estimate for progress, not a promise.
   */
  readonly expectedFrames: number | null;
}

// GIF is left out: it is usually animated, so it goes the video way.
const IMAGE_FORMATS = /(^|,)(image2|png_pipe|jpeg_pipe|bmp_pipe|webp_pipe|tiff_pipe|pam_pipe|ppm_pipe|pgm_pipe|j2k_pipe|dpx_pipe|exr_pipe)(,|$)/;

/** Runs `ffmpeg -i` (no ffprobe ships with the static build) and returns its stderr. */
async function runInfo(path: string): Promise<string> {
  // ffmpeg exits 1 here (no output named): the summary on stderr is the answer.
  return (await runFfmpeg(['-hide_banner', '-nostdin', '-i', path])).stderr;
}

function parseClock(s: string): number | null {
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** The file starts with an MP4/MOV file-type box. */
const isIsoBmff = (head: Uint8Array): boolean => head.length >= 8 && String.fromCharCode(...head.subarray(4, 8)) === 'ftyp';

/**
 * The pixel format and colour tags of a video stream line, as ffmpeg prints
 * them after the codec: `yuv420p(tv, bt709, progressive)`, or with the
 * matrix, primaries and transfer apart when they differ:
 * `yuv420p(tv, smpte170m/bt709/bt709)`.
 */
function parsePixelFormat(v: string): { pixelFormat: string | null; colourSpace: string | null; colourRange: 'tv' | 'pc' | null } {
  const m = /^[^,]*?, ([a-z0-9_]+)(?:\(([^)]*)\))?,/.exec(v);
  if (!m) return { pixelFormat: null, colourSpace: null, colourRange: null };
  const details = (m[2] ?? '').split(', ');
  const range = details.find((d) => d === 'tv' || d === 'pc') as 'tv' | 'pc' | undefined;
  const space = details.find((d) => /^[a-z0-9-]+(\/[a-z0-9-]+\/[a-z0-9-]+)?$/.test(d) && d !== 'tv' && d !== 'pc' && d !== 'progressive');
  const matrix = space?.split('/')[0];
  return { pixelFormat: m[1]!, colourSpace: matrix && matrix !== 'unknown' ? matrix : null, colourRange: range ?? null };
}

/** Parses the stream summary `ffmpeg -i` prints. Exported for tests. */
export function parseProbe(path: string, text: string, head: Uint8Array = new Uint8Array(0)): MediaInfo {
  const input = /Input #0, ([^ ]+), from/.exec(text);
  const videoLine = /Stream #0:\d+[^:]*: Video: ([^\n]+)/.exec(text);
  if (!input || !videoLine) {
    // An MP4 cut short loses its index; a text file named .mp4 gets the same
    // complaint from ffmpeg, so look for the MP4 file-type box first.
    if (/moov atom not found/.test(text) && isIsoBmff(head)) {
      throw new DepthVideoError('INPUT_DAMAGED', `${path} is damaged or truncated (its MP4 index, the moov atom, is missing): no frames can be recovered; re-copy or re-export the file`, { file: path });
    }
    const why = /Invalid data found when processing input/.test(text)
      ? 'not a video or image ffmpeg can read'
      : input ? 'it has no video stream' : 'ffmpeg cannot read it';
    throw new DepthVideoError('INPUT_NOT_MEDIA', `${path}: ${why}; give a video (mp4, mkv, webm, mov…) or an image (png, jpg…)`, { file: path });
  }
  const format = input[1]!.replace(/,$/, '');
  const v = videoLine[1]!;
  const codec = v.split(/[ ,]/)[0] ?? 'unknown';
  const size = /, (\d{1,5})x(\d{1,5})[ ,]/.exec(v + ' ');
  if (!size) throw new DepthVideoError('INPUT_DAMAGED', `${path} is damaged: its video stream has no picture size; re-copy or re-export the file`, { file: path });
  const fpsM = /([\d.]+)(k?) fps/.exec(v) ?? /([\d.]+)(k?) tbr/.exec(v);
  const colour = parsePixelFormat(v);
  const fps = fpsM ? Number(fpsM[1]) * (fpsM[2] ? 1000 : 1) : null;
  const durM = /Duration: ([^,]+), start: (-?[\d.]+)/.exec(text);
  const duration = durM ? parseClock(durM[1]!) : null;
  const startTime = durM ? Number(durM[2]) : 0;
  const audioM = /Stream #0:\d+[^:]*: Audio: ([a-z0-9_]+)/.exec(text);
  const still = IMAGE_FORMATS.test(format);
  const expectedFrames = still ? 1 : duration !== null && fps ? Math.max(1, Math.round(duration * fps)) : null;
  return {
    path,
    format,
    duration,
    startTime,
    video: { codec, width: Number(size[1]), height: Number(size[2]), fps, ...colour },
    audio: audioM ? { codec: audioM[1]! } : null,
    still,
    orientation: 1,
    expectedFrames,
  };
}

/** A still described as it is shown: its orientation, and its sides swapped for a quarter turn. */
function upright(info: MediaInfo, orientation: Orientation): MediaInfo {
  if (orientation === 1) return info;
  const v = info.video;
  const sides = orientationSwapsSides(orientation) ? { width: v.height, height: v.width } : {};
  return { ...info, orientation, video: { ...v, ...sides } };
}

/** Checks that `path` is a readable media file and describes it. */
export async function probeMedia(path: string): Promise<MediaInfo> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new DepthVideoError('INPUT_MISSING', `input ${path} does not exist: check the path`, { file: path });
  }
  if (!st.isFile()) throw new DepthVideoError('INPUT_NOT_MEDIA', `input ${path} is not a file: give a video or image file`, { file: path });
  if (st.size === 0) throw new DepthVideoError('INPUT_NOT_MEDIA', `input ${path} is empty (0 bytes): give a video or image file`, { file: path });
  const fh = await open(path, 'r');
  // Enough for a JPEG's EXIF block, which comes first (APP1 is at most 64 KB).
  const head = new Uint8Array(Math.min(st.size, 70_000));
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const info = parseProbe(path, await runInfo(path), head);
  if (info.still) return upright(info, jpegOrientation(head));
  if (!isIsoBmff(head)) return info;
  const frames = await mp4FileFrameCount(path, st.size);
  return frames === null ? info : { ...info, expectedFrames: frames };
}
