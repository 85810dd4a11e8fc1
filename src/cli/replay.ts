import { spawn } from 'node:child_process';
import { Option, type Command } from 'commander';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Subscription } from '../rx.js';
import { DepthVideoError, errorText } from '../errors.js';
import { ffmpegPath } from '../ffmpeg/binary.js';
import type { Rational } from '../ffmpeg/probe.js';
import { checkOutput } from '../pipeline/output-check.js';
import { applyColormap, COLORMAP_NAMES, getColormap } from '../render/colormap.js';
import { formatBytes } from '../models/progress.js';
import { padToEven } from '../render/layout.js';
import { normalizeDepth } from '../render/normalize.js';
import { FfmpegEncoder, needsEvenSize } from '../sinks/encoder.js';
import { readDepth16, readRaw, readRecording, type FrameRecord, type LoadedRecording, type RecordingSegment } from '../sinks/recorder/index.js';
import { cameraModelProblem, DEFAULT_CAMERA, type CameraModel } from '../render/unproject.js';
import { writeFileAtomic } from '../sinks/atomic-file.js';
import { encodePly, framePath, isFramePattern, plyComments, pointCloudPositions } from '../sinks/point-cloud.js';
import { fileSource } from '../sources/file-source.js';
import type { ColormapName, DepthKind, VideoFrame } from '../types.js';
import { addPointCloudOptions, cameraFromFlags } from './point-cloud-args.js';
import type { CliIO } from './io.js';
import { counted } from '../count.js';

/**
 * `depth-video replay <dir>`: renders a recording back to a colour video (the
 * proof that what was recorded is complete and loadable), or summarises it
 * with --info. A damaged recording is replayed as far as it goes; what is
 * missing is said once per kind of problem.
 */

export interface ReplayOptions {
  readonly out: string;
  readonly colormap: ColormapName;
  readonly invert: boolean;
  readonly overwrite: boolean;
  /** Near/far distances and field of view of `.ply` outputs. */
  readonly camera?: CameraModel;
}

export interface ReplayResult {
  readonly framesWritten: number;
  readonly framesListed: number;
  readonly frameRate: Rational;
  /** One line per kind of problem (recording and replay). */
  readonly problems: readonly string[];
  readonly complete: boolean;
}

/**
 * One line per kind of problem: lines that differ only in numbers (frame
 * indices, file names) are one kind, shown by its first example and a count.
 */
export function groupProblems(problems: readonly string[]): string[] {
  const kinds = new Map<string, { first: string; count: number }>();
  for (const p of problems) {
    const key = p.replace(/\d+/g, '#');
    const k = kinds.get(key);
    if (k) k.count++;
    else kinds.set(key, { first: p, count: 1 });
  }
  return [...kinds.values()].map((k) => (k.count > 1 ? `${k.first} (and ${k.count - 1} more like it)` : k.first));
}

/** A rational for an fps value, preferring the NTSC-style /1001 rates when they fit. */
export function toRational(fps: number): Rational {
  for (const den of [1, 1001, 1000]) {
    const num = Math.round(fps * den);
    if (num > 0 && Math.abs(num / den - fps) <= fps * 1e-4) return { num, den };
  }
  return { num: Math.max(1, Math.round(fps * 1000)), den: 1000 };
}

/**
 * The rate recorded frames follow: the median pts step between consecutive
 * recorded frames of the same segment (a pause is not a slow frame); the
 * input's rate, then 25, when there are too few frames to tell.
 */
export function recordedFrameRate(frames: readonly Pick<FrameRecord, 'index' | 'pts'>[], segments: readonly RecordingSegment[], fallback: number | null): Rational {
  const segOf = (index: number) => segments.findIndex((s) => index >= s.startFrame && (s.endFrame === null || index < s.endFrame));
  const steps: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!;
    const b = frames[i]!;
    const d = b.pts - a.pts;
    if (d > 0 && segOf(a.index) === segOf(b.index)) steps.push(d);
  }
  if (steps.length > 0) {
    steps.sort((x, y) => x - y);
    const mid = steps[steps.length >> 1]!;
    const fps = 1 / mid;
    // Snap to the input's exact rate when the median is that rate (rounding of pts).
    if (fallback && Math.abs(fps - fallback) <= fallback * 2e-3) return toRational(fallback);
    if (fps >= 0.1 && fps <= 1000) return toRational(fps);
  }
  return toRational(fallback && fallback > 0 ? fallback : 25);
}

function unitFrom16(d: Uint16Array): Float32Array {
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i]! / 65535;
  return out;
}

/**
 * A float32-only recording has no depth image: show the raw output over its
 * own range, near as bright (metric depth grows with distance, so its range
 * runs the other way, as the renderer does).
 */
function unitFromRaw(raw: Float32Array, lo: number, hi: number, kind: DepthKind): Float32Array {
  return kind === 'metric-depth' ? normalizeDepth(raw, hi, lo) : normalizeDepth(raw, lo, hi);
}

/**
 * The frames of depth.mkv one at a time, in file order: a long recording
 * would not fit in memory decoded all at once. A torn tail just ends early.
 */
async function* streamGray16(path: string, width: number, height: number): AsyncGenerator<Uint16Array> {
  const proc = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', path,
    '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray16le', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const frameBytes = width * height * 2;
  let buf: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= frameBytes) {
        const f = new Uint16Array(width * height);
        for (let k = 0; k < f.length; k++) f[k] = buf.readUInt16LE(k * 2);
        buf = buf.subarray(frameBytes);
        yield f;
      }
    }
  } finally {
    proc.kill();
  }
}

async function dirSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const ent of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) {
      const sub = await dirSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (ent.isFile()) {
      bytes += (await fsp.stat(p)).size;
      files++;
    }
  }
  return { bytes, files };
}

const MKV_NAME = 'depth.mkv';

/**
 * Calls emit with the normalised depth (0..1, near = 1) of every readable
 * recorded frame, in order; what cannot be read is added to problems.
 * Returns how many frames were emitted.
 */
async function forEachRecordedDepth(abs: string, rec: LoadedRecording, problems: string[], emit: (unit: Float32Array, f: FrameRecord) => Promise<void>): Promise<number> {
  const { manifest, frames } = rec;
  const first = frames[0]!;
  let emitted = 0;
  if (frames.some((f) => f.depth === MKV_NAME)) {
    // readRecording already checked every listed mkvFrame is in the file.
    const byPos = new Map(frames.map((f) => [f.mkvFrame ?? -1, f]));
    let pos = 0;
    for await (const d of streamGray16(join(abs, MKV_NAME), first.width, first.height)) {
      const f = byPos.get(pos);
      if (f) { await emit(unitFrom16(d), f); emitted++; }
      pos++;
    }
    if (emitted < frames.length) problems.push(`${MKV_NAME} decoded to only ${emitted} of the ${frames.length} listed frames`);
    return emitted;
  }
  for (const f of frames) {
    if (f.width !== first.width || f.height !== first.height) {
      problems.push(`frame ${f.index} is ${f.width}x${f.height}, not ${first.width}x${first.height} like the first frame: skipped`);
      continue;
    }
    let unit: Float32Array;
    try {
      unit = f.depth !== undefined ? unitFrom16(await readDepth16(abs, f, manifest)) : unitFromRaw(readRaw(abs, f), f.rawMin, f.rawMax, manifest.model?.output ?? 'relative-inverse-depth');
    } catch (e) {
      problems.push(`frame ${f.index} could not be read: ${errorText(e)}`);
      continue;
    }
    await emit(unit, f);
    emitted++;
  }
  return emitted;
}

/**
 * The frames of the recorded input, decoded as the recording run decoded
 * them (same source, same indices), visited in increasing index order: the
 * colours of replayed point clouds.
 */
class InputFrames {
  private readonly queue: VideoFrame[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private readonly sub: Subscription;

  constructor(path: string) {
    this.sub = fileSource(path, { maxInFlight: 2 }).frames$.subscribe({
      next: (f) => { this.queue.push(f); this.wake?.(); },
      error: () => { this.ended = true; this.wake?.(); },
      complete: () => { this.ended = true; this.wake?.(); },
    });
  }

  /** Frame `index`, valid until the next call; null when the input has no such frame. */
  async at(index: number): Promise<VideoFrame | null> {
    for (;;) {
      while (this.queue.length && this.queue[0]!.index < index) this.queue.shift()!.release();
      if (this.queue.length) return this.queue[0]!.index === index ? this.queue[0]! : null;
      if (this.ended) return null;
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = null;
    }
  }

  close(): void {
    for (const f of this.queue.splice(0)) f.release();
    this.sub.unsubscribe();
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isFile();
  } catch {
    return false;
  }
}

/** One PLY per recorded frame; colours from the recorded input when it is a file here, else from the colour map. */
async function replayPointClouds(abs: string, rec: LoadedRecording, opts: ReplayOptions, problems: string[]): Promise<number> {
  const { manifest } = rec;
  const camera = opts.camera ?? DEFAULT_CAMERA;
  const problem = cameraModelProblem(camera);
  if (problem) throw new DepthVideoError('USAGE', `${opts.out}: ${problem}`, { file: opts.out });
  const inputPath = manifest.input?.path;
  const input = inputPath && (await isFile(inputPath)) ? new InputFrames(inputPath) : null;
  if (!input) problems.push(`the recorded input ${inputPath ?? '(unknown)'} is not a file here: points are coloured by the ${opts.colormap} colour map`);
  const lut = getColormap(opts.colormap);
  const model = { label: manifest.model?.name ?? '?', untrained: manifest.model?.untrained ?? false };
  // A metric model's recorded raw output is metres: points go there, as the live point-cloud sink puts them.
  const metric = manifest.model?.output === 'metric-depth';
  if (metric && rec.frames.some((f) => f.raw === undefined)) {
    problems.push('the model gives metric depth, but frames without a raw .npy (record with --record-format float32 or both) are placed by --depth-range');
  }
  let positions: Float32Array | undefined;
  let file: Buffer | undefined;
  try {
    return await forEachRecordedDepth(abs, rec, problems, async (unit, f) => {
      const frame = await input?.at(f.index);
      const matches = frame && frame.width === f.width && frame.height === f.height;
      if (input && !matches) problems.push(`frame ${f.index} is not in ${inputPath} at ${f.width}x${f.height}: coloured by the colour map`);
      const rgb = matches ? frame.data : applyColormap(unit, lut, undefined, opts.invert);
      const metres = metric && f.raw !== undefined ? readRaw(abs, f) : null;
      positions = pointCloudPositions(unit, f.width, f.height, camera, positions, metres);
      file = encodePly(positions, rgb, f.width * f.height, plyComments(camera, f.width, f.height, `${abs} frame ${f.index}`, model, metres !== null), file);
      await writeFileAtomic(framePath(opts.out, f.index), file);
    });
  } finally {
    input?.close();
  }
}

/** Renders a recording dir to a colour video, or to one point cloud per frame; throws only when nothing could be rendered. */
export async function replayRecording(dir: string, opts: ReplayOptions): Promise<ReplayResult> {
  const abs = resolve(dir);
  const chk = await checkOutput(opts.out, { overwrite: opts.overwrite });
  if (chk.kind === 'pointcloud' && !isFramePattern(opts.out)) {
    throw new DepthVideoError('OUTPUT_FORMAT', `${opts.out}: a recording holds many frames, one point cloud each: give a pattern such as ${join(dirname(opts.out), '%05d.ply')}`, { file: opts.out });
  }
  if (chk.kind === 'image') {
    throw new DepthVideoError('OUTPUT_FORMAT', `${opts.out}: replay writes a video (.mp4, .mkv, .webm, .mov) or point clouds (frames/%05d.ply)`, { file: opts.out });
  }
  const rec: LoadedRecording = await readRecording(abs);
  const { manifest, frames } = rec;
  const problems = [...rec.problems];
  if (frames.length === 0) {
    throw new DepthVideoError('RECORDING', `${abs} holds no complete frame to replay${problems.length ? ` (${groupProblems(problems).join('; ')})` : ''}`, { file: abs });
  }
  const frameRate = recordedFrameRate(frames, manifest.segments ?? [], manifest.input?.frameRate ?? null);
  const nothingRead = () => new DepthVideoError('RECORDING', `no frame of ${abs} could be read: ${groupProblems(problems).join('; ')}`, { file: abs });
  if (chk.kind === 'pointcloud') {
    const written = await replayPointClouds(abs, rec, opts, problems);
    if (written === 0) throw nothingRead();
    return { framesWritten: written, framesListed: frames.length, frameRate, problems: groupProblems(problems), complete: problems.length === 0 };
  }
  const first = frames[0]!;
  const even = needsEvenSize(opts.out, false);
  const size = even ? { width: first.width + (first.width & 1), height: first.height + (first.height & 1) } : { width: first.width, height: first.height };
  const lut = getColormap(opts.colormap);
  const encoder = new FfmpegEncoder({ output: opts.out, width: size.width, height: size.height, frameRate, viaTemp: chk.replaces });
  let written = 0;
  try {
    written = await forEachRecordedDepth(abs, rec, problems, async (unit) => {
      const rgb = { width: first.width, height: first.height, data: applyColormap(unit, lut, undefined, opts.invert) };
      // Evenly spaced at the recording's rate, so paused segments do not stall playback.
      await encoder.write(even ? padToEven(rgb) : rgb, (written * frameRate.den) / frameRate.num);
      written++;
    });
  } catch (e) {
    await encoder.abort();
    throw e;
  }
  if (written === 0) {
    await encoder.abort();
    throw nothingRead();
  }
  await encoder.finish();
  return { framesWritten: written, framesListed: frames.length, frameRate, problems: groupProblems(problems), complete: problems.length === 0 };
}

/** The --info summary, one fact per line. */
export async function recordingInfo(dir: string): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const abs = resolve(dir);
  const rec = await readRecording(abs);
  const m = rec.manifest;
  const { bytes, files } = await dirSize(abs);
  const problems = groupProblems(rec.problems);
  const segs = (m.segments ?? []).map((s) => `[${s.startFrame}, ${s.endFrame ?? 'open'})`).join(' ');
  const pts = rec.frames.map((f) => f.pts);
  // A loop, not Math.min(...pts): spreading 200k values overflows the stack.
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) { if (p < lo) lo = p; if (p > hi) hi = p; }
  const span = pts.length ? `${lo.toFixed(3)}–${hi.toFixed(3)} s` : 'none';
  const rate = recordedFrameRate(rec.frames, m.segments ?? [], m.input?.frameRate ?? null);
  const ok = problems.length === 0;
  const lines = [
    `recording  ${abs}`,
    `status     ${ok ? 'complete' : `incomplete (${counted(problems.length, 'kind')} of problem, listed below)`}`,
    `format     ${m.format}`,
    `frames     ${rec.frames.length} usable${m.complete && m.framesRecorded !== rec.frames.length ? ` (manifest says ${m.framesRecorded})` : ''}, segments ${segs || 'none'}`,
    `time       ${span}, about ${(rate.num / rate.den).toFixed(3)} fps`,
    `size       ${formatBytes(bytes)} in ${counted(files, 'file')}`,
    `model      ${m.model?.name ?? '?'}${m.model?.untrained ? ' (untrained)' : ''}, sha256 ${m.model?.sha256 ?? 'unknown'}`,
    `input      ${m.input?.path ?? '?'} ${m.input?.width}x${m.input?.height}${m.input?.frameRate ? ` @ ${m.input.frameRate.toFixed(3)} fps` : ''}`,
    `sizes      frame ${m.frameSize?.width}x${m.frameSize?.height}, inference ${m.inferenceSize?.width}x${m.inferenceSize?.height}`,
    `recorded   ${m.startedAt ?? '?'} – ${m.endedAt ?? 'not closed'}, tool ${m.tool?.name ?? '?'} ${m.tool?.version ?? ''}`.trimEnd(),
  ];
  if (m.stoppedReason) lines.push(`stopped    ${m.stoppedReason}`);
  for (const p of problems) lines.push(`problem    ${p}`);
  return {
    lines,
    json: { dir: abs, complete: ok, format: m.format, frames: rec.frames.length, segments: m.segments, bytes, files, frameRate: rate, manifest: m, problems },
  };
}

export function registerReplayCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = program
    .command('replay <recording-dir>')
    .description('render a recording (--record) to a colour video, or summarise it with --info')
    .option('-o, --out <file>', 'video to write (.mp4 .mkv .webm .mov), or frames/%05d.ply for one point cloud per frame')
    .addOption(new Option('--colormap <name>', 'colour table').choices([...COLORMAP_NAMES]).default('inferno'))
    .option('--invert', 'far = bright instead of near = bright', false)
    .option('--overwrite', 'replace an existing output file')
    .option('--info', 'summarise the recording: frames, segments, size, model, complete or not, problems')
    .option('--json', 'with --info: machine-readable summary on stdout');
  addPointCloudOptions(cmd)
    .action(async (dir: string, o: { out?: string; colormap: ColormapName; invert: boolean; overwrite?: boolean; info?: boolean; json?: boolean; depthRange?: { dMin: number; dMax: number }; fov?: number }) => {
      if (o.info) {
        const info = await recordingInfo(dir);
        io.stdout.write(o.json ? `${JSON.stringify(info.json)}\n` : `${info.lines.join('\n')}\n`);
        setExit(0);
        return;
      }
      if (!o.out) throw new DepthVideoError('USAGE', `no output given: depth-video replay ${dir} --out depth.mp4 (or --info)`);
      const r = await replayRecording(dir, { out: o.out, colormap: o.colormap, invert: o.invert, overwrite: o.overwrite ?? false, camera: cameraFromFlags(o) });
      const fps = (r.frameRate.num / r.frameRate.den).toFixed(3);
      io.stderr.write(isFramePattern(o.out) ? `replayed ${counted(r.framesWritten, 'frame')} to point clouds ${o.out}\n` : `replayed ${counted(r.framesWritten, 'frame')} to ${o.out} at ${fps} fps\n`);
      if (!r.complete) {
        io.stderr.write(`replay: the recording is incomplete; rendered ${r.framesWritten} readable of the ${counted(r.framesListed, 'complete frame')} listed:\n`);
        for (const p of r.problems) io.stderr.write(`  ${p}\n`);
      }
      setExit(0);
    });
}
