import { spawn, type ChildProcess } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { failureLine, ffmpegPath, runFfmpeg } from '../ffmpeg/binary.js';
import { mkvFramePrefix, mkvStreamHeader } from '../ffmpeg/mkv-stream.js';
import type { Rational } from '../ffmpeg/probe.js';
import { yuv420pSize } from '../render/yuv.js';
import type { RgbImage, Yuv420pImage } from '../types.js';
import { encoderFeed, type EncoderFeed } from './encoder-feed.js';

export type OutputKind = 'video' | 'image' | 'pointcloud';

interface ContainerRule {
  readonly kind: OutputKind;
  /** Audio codecs the container takes as they are (others are re-encoded). */
  readonly copyAudio: readonly string[];
  readonly audioCodec: readonly string[];
}

const VIDEO_EXT: Record<string, ContainerRule> = {
  '.mp4': { kind: 'video', copyAudio: ['aac', 'mp3', 'ac3', 'eac3', 'alac'], audioCodec: ['-c:a', 'aac', '-b:a', '160k'] },
  '.m4v': { kind: 'video', copyAudio: ['aac', 'mp3', 'ac3', 'eac3', 'alac'], audioCodec: ['-c:a', 'aac', '-b:a', '160k'] },
  '.mov': { kind: 'video', copyAudio: ['aac', 'mp3', 'ac3', 'eac3', 'alac', 'pcm_s16le', 'pcm_s24le'], audioCodec: ['-c:a', 'aac', '-b:a', '160k'] },
  '.mkv': { kind: 'video', copyAudio: ['*'], audioCodec: ['-c:a', 'aac', '-b:a', '160k'] },
  '.webm': { kind: 'video', copyAudio: ['opus', 'vorbis'], audioCodec: ['-c:a', 'libopus', '-b:a', '128k'] },
};
const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

const isMp4Family = (ext: string): boolean => ext === '.mp4' || ext === '.m4v' || ext === '.mov';

/**
 * Fragmented MP4, for the encoder and the audio pass alike: every 2 s of
 * output is playable on its own, so a run that is interrupted or killed still
 * leaves a file a player can open. delay_moov writes the header once the
 * first fragment is known, so its edit list presents the first frame at its
 * own pts (past the B-frame delay); written up front, it starts 2 frames late.
 * The audio pass keeps the fragments because ffmpeg 4 reads fragments without
 * packet durations: remuxed into a plain MP4, the edit list would end where
 * the last frame starts and hide it.
 */
const FRAGMENTED_MP4 = ['-movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof'];

/** What kind of file an output path asks for, or a one-line error naming the choices. */
export function outputKind(path: string): OutputKind {
  const ext = extname(path).toLowerCase();
  if (VIDEO_EXT[ext]) return 'video';
  if (IMAGE_EXT.has(ext)) return 'image';
  if (ext === '.ply') return 'pointcloud';
  throw new DepthVideoError('OUTPUT_FORMAT', `${path}: unknown output type "${ext || '(no extension)'}": use .mp4, .mkv, .webm or .mov for video, .png or .jpg for images, .ply for a point cloud`, { file: path });
}

/** True when the encoder for this output needs even width and height (4:2:0 chroma). */
export function needsEvenSize(path: string, lossless: boolean): boolean {
  return outputKind(path) === 'video' && !lossless;
}

/**
 * What the encoder for this output is fed: the 4:2:0 video codecs take
 * yuv420p made by depth-video itself (render/yuv.ts), so ffmpeg does not
 * convert; image files and lossless FFV1 keep RGB.
 */
export function encoderPixelFormat(path: string, lossless: boolean): 'rgb24' | 'yuv420p' {
  return needsEvenSize(path, lossless) ? 'yuv420p' : 'rgb24';
}

/**
 * Tags for a stream written from render/yuv.ts's planes: BT.601 matrix,
 * limited range. Untagged, players guess the matrix from the frame size and
 * read HD as BT.709, which shifts every colour. The colours themselves are
 * sRGB values (the colour tables, decoded camera pictures), whose primaries
 * and transfer are BT.709's.
 */
export const YUV420P_TAGS: readonly string[] = ['-colorspace', 'smpte170m', '-color_range', 'tv', '-color_primaries', 'bt709', '-color_trc', 'bt709'];

export interface EncoderOptions {
  readonly output: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: Rational;
  /** Time base of the input, so the output stores the same pts values. */
  readonly timeBase?: Rational;
  /** pts of the first input frame (s); the first output frame gets the same. */
  readonly startPts?: number;
  /** Lossless RGB (FFV1 in .mkv): exact pixels, used by tests and for grading. */
  readonly lossless?: boolean;
  /** Write to a temporary name and rename at the end (used when replacing an existing file). */
  readonly viaTemp?: boolean;
  /** What write() is given (default rgb24); yuv420p only for outputs that take it (encoderPixelFormat). */
  readonly pixelFormat?: 'rgb24' | 'yuv420p';
  /** The container's comment tag (video outputs; the audio pass copies it). */
  readonly comment?: string;
}

/** ffmpeg arguments for the video codec of an output file. */
export function videoCodecArgs(output: string, frameRate: Rational, lossless: boolean): string[] {
  const ext = extname(output).toLowerCase();
  const fps = frameRate.num / frameRate.den;
  const gop = String(Math.max(1, Math.round(fps * 2)));
  if (IMAGE_EXT.has(ext)) return ['-frames:v', '1', '-update', '1'];
  if (lossless) {
    if (ext !== '.mkv') throw new DepthVideoError('OUTPUT_FORMAT', `${output}: --lossless needs an .mkv output (FFV1)`, { file: output });
    return ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'bgr0', '-g', gop];
  }
  if (ext === '.webm') {
    return ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-b:v', '0', '-crf', '32', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-g', gop];
  }
  // superfast, not veryfast: the encoder shares the cores with inference, and
  // on a 640x360 depth video veryfast took 9.2 ms of CPU a frame against 5.8
  // for superfast, for 11% more bytes at the same CRF.
  const args = ['-c:v', 'libx264', '-preset', 'superfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-g', gop];
  if (isMp4Family(ext)) args.push(...FRAGMENTED_MP4);
  return args;
}

/**
 * Adds the first audio track of `audioFrom` to the finished video `video`,
 * writing `dest`, with the audio cut at `until` (s, the end of the last frame
 * written). A separate pass, because muxing audio while encoding breaks
 * timestamps in ffmpeg 4: fragmented MP4 has no edit list to hide the AAC
 * priming delay (the video shifts by ~23 ms), and -shortest cuts the last
 * frames still in the encoder's look-ahead. Copying packets is I/O-bound.
 */
export async function muxAudio(video: string, audioFrom: { readonly path: string; readonly codec: string }, dest: string, until: number): Promise<void> {
  const ext = extname(dest).toLowerCase();
  const rule = VIDEO_EXT[ext];
  if (!rule) throw new DepthVideoError('OUTPUT_FORMAT', `${dest}: cannot carry audio in this container`, { file: dest });
  const copy = rule.copyAudio.includes('*') || rule.copyAudio.includes(audioFrom.codec);
  // -copyts: both files keep the input's timeline, so the video stays where
  // the input had it and the audio stays in sync with it.
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-copyts', '-i', video, '-i', audioFrom.path,
    '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', ...(copy ? ['-c:a', 'copy'] : rule.audioCodec),
    // AAC from MPEG-TS comes with ADTS headers, which MP4 keeps in its header
    // instead; with the header written late (delay_moov) ffmpeg 4 does not
    // convert by itself. Packets without ADTS headers pass unchanged.
    ...(copy && audioFrom.codec === 'aac' && isMp4Family(ext) ? ['-bsf:a', 'aac_adtstoasc'] : []),
    // Not -shortest: in ffmpeg 4 it drops the last video packet when the
    // video ends first (an interrupted run, --max-frames).
    '-to', until.toFixed(6),
    // The audio's first packet (AAC priming, Opus pre-skip) lies before 0.
    // Matroska would otherwise move every stream later by that much; MP4 takes
    // it in an edit list either way.
    '-avoid_negative_ts', 'disabled'];
  if (isMp4Family(ext)) args.push(...FRAGMENTED_MP4);
  args.push(dest);
  const r = await runFfmpeg(args, { detached: true });
  if (r.code !== 0) throw new DepthVideoError('FFMPEG', `adding the audio of ${audioFrom.path} to ${dest} failed: ${failureLine(r)}`, { file: dest });
}

/**
 * One persistent ffmpeg process that takes raw frames (RGB24, or yuv420p for
 * the 4:2:0 codecs) on stdin and writes the output file. Frames travel in a
 * live Matroska stream with their own pts, so the output keeps the input's
 * timestamps, variable frame rates included.
 */
export class FfmpegEncoder {
  private readonly proc: ChildProcess;
  /** Frames go to ffmpeg's stdin from a writer thread where it can (encoder-feed.ts). */
  private readonly feed: EncoderFeed;
  private readonly target: string;
  private readonly writing: string;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderrTail: string[] = [];
  private failed: Error | null = null;
  private ended = false;
  private lastMicros = -1;
  /** pts of the first frame (s); the Matroska stream counts from it. */
  private readonly startPts: number;
  private readonly frameSeconds: number;
  private readonly frameBytes: number;
  framesWritten = 0;

  constructor(private readonly opts: EncoderOptions) {
    this.target = opts.output;
    this.writing = opts.viaTemp
      ? join(dirname(opts.output), `.${basename(opts.output, extname(opts.output))}.partial-${process.pid}${extname(opts.output)}`)
      : opts.output;
    this.startPts = opts.startPts ?? 0;
    this.frameSeconds = opts.frameRate.num > 0 && opts.frameRate.den > 0 ? opts.frameRate.den / opts.frameRate.num : 1 / 25;
    // -copyts keeps the stream's timestamps as written; the stream counts
    // from the first frame (Matroska ticks are unsigned) and -itsoffset puts
    // it back at the input's first pts, whatever its sign.
    const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-y', '-copyts', '-f', 'matroska'];
    if (this.startPts !== 0) args.push('-itsoffset', this.startPts.toFixed(6));
    args.push('-i', 'pipe:0', '-vsync', 'passthrough');
    const ext = extname(opts.output).toLowerCase();
    const format = opts.pixelFormat ?? 'rgb24';
    if (format === 'yuv420p' && encoderPixelFormat(opts.output, opts.lossless ?? false) !== 'yuv420p') {
      throw new DepthVideoError('OUTPUT_FORMAT', `internal: ${opts.output} is not encoded from yuv420p`, { file: opts.output });
    }
    this.frameBytes = format === 'yuv420p' ? yuv420pSize(opts.width, opts.height) : opts.width * opts.height * 3;
    args.push(...videoCodecArgs(opts.output, opts.frameRate, opts.lossless ?? false));
    if (format === 'yuv420p') args.push(...YUV420P_TAGS);
    if (opts.timeBase && VIDEO_EXT[ext]) {
      // The encoder otherwise counts in frames of the nominal rate and moves
      // every pts onto that grid (an MPEG-TS frame at 1.4213 s lands on 1.4).
      args.push('-enc_time_base', `${opts.timeBase.num}/${opts.timeBase.den}`);
      if (isMp4Family(ext) && opts.timeBase.num === 1) args.push('-video_track_timescale', String(opts.timeBase.den));
    }
    if (opts.comment && VIDEO_EXT[ext]) args.push('-metadata', `comment=${opts.comment}`);
    args.push(this.writing);
    // Detached: a Ctrl-C in the terminal reaches only us; we then close stdin
    // so ffmpeg finishes the file properly instead of dying with it.
    this.feed = encoderFeed();
    this.proc = spawn(ffmpegPath(), args, { stdio: [this.feed.stdin, 'ignore', 'pipe'], detached: true });
    this.feed.attach(this.proc.stdin);
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      for (const l of d.split('\n')) if (l.trim()) { this.stderrTail.push(l.trim()); if (this.stderrTail.length > 20) this.stderrTail.shift(); }
    });
    this.proc.stdin?.on('error', (e) => { this.failed ??= e; });
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (e) => { this.failed ??= e; resolve({ code: null, signal: null }); });
      this.proc.on('close', (code, signal) => resolve({ code, signal }));
    });
    this.feed.write([mkvStreamHeader(opts.width, opts.height, format)]).catch((e: Error) => { this.failed ??= e; });
  }

  get outputPath(): string {
    return this.target;
  }

  /** When the last frame written ends (s, on the input's timeline): its pts plus one nominal frame. */
  get endTime(): number {
    return this.startPts + Math.max(0, this.lastMicros) / 1e6 + this.frameSeconds;
  }

  /**
   * Queues one frame shown at `pts` seconds; resolves once it has been handed
   * to the OS pipe, after which the image's buffer may be reused. pts must
   * increase; a repeat is moved 1 µs on.
   */
  write(img: RgbImage | Yuv420pImage, pts: number): Promise<void> {
    if (this.failed) return Promise.reject(this.error());
    if (img.width !== this.opts.width || img.height !== this.opts.height || img.data.length !== this.frameBytes) {
      return Promise.reject(new DepthVideoError('FFMPEG', `internal: frame ${img.width}x${img.height} (${img.data.length} bytes) does not match the encoder's ${this.opts.width}x${this.opts.height} ${this.opts.pixelFormat ?? 'rgb24'}`));
    }
    const micros = Math.max(Math.round((pts - this.startPts) * 1e6), this.lastMicros + 1);
    this.lastMicros = micros;
    return this.feed.write([mkvFramePrefix(micros, img.data.length), img.data]).then(
      () => { this.framesWritten++; },
      (err: Error) => {
        this.failed ??= err;
        throw this.error();
      },
    );
  }

  private error(): DepthVideoError {
    const detail = this.stderrTail.filter((l) => !/^\s*$/.test(l)).pop() ?? (this.failed ? this.failed.message : 'unknown error');
    return new DepthVideoError('FFMPEG', `encoding ${this.target} failed: ${detail}`, { file: this.target });
  }

  /** Closes the stream, waits for ffmpeg to finish the file, and moves it into place. */
  async finish(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.feed.end();
    }
    const { code, signal } = await this.exited;
    if (code !== 0) {
      if (this.opts.viaTemp) await rm(this.writing, { force: true });
      const e = this.error();
      throw new DepthVideoError('FFMPEG', `${e.message} (ffmpeg exited with ${signal ?? code})`, { file: this.target });
    }
    if (this.writing !== this.target) await rename(this.writing, this.target);
  }

  /** Stops without a usable file (used when the run failed before any frame). */
  async abort(): Promise<void> {
    // Killed first, so that a write blocked on a full pipe fails instead of waiting.
    this.proc.kill('SIGKILL');
    if (!this.ended) {
      this.ended = true;
      this.feed.destroy();
    }
    await this.exited;
    if (this.writing !== this.target || this.framesWritten === 0) await rm(this.writing, { force: true });
  }
}
