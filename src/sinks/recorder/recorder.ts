import { basename, extname, join, resolve } from 'node:path';
import { DepthVideoError, errorText } from '../../errors.js';
import { defaultRecorderFs, type RecorderFs } from './fs.js';
import { Ffv1Encoder, gray16leBytes } from './ffv1.js';
import { encodeNpy } from './npy.js';
import { filterRows16, pngFromFiltered } from './png16.js';
import type { FrameRecord, ManifestInit, RecordedFrame, RecordFormat, RecordingManifest } from './types.js';
import { counted } from '../../count.js';

export const MANIFEST = 'manifest.json';
export const FRAMES = 'frames.jsonl';
export const DEPTH_DIR = 'depth';
export const RAW_DIR = 'raw';
export const MKV = 'depth.mkv';

/** Temp names are dot-files ending in .tmp so every listing tool and our reader can tell them apart. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp');
let tempCounter = 0;
// Unique per write, so a manifest save racing a frame write never shares a temp file.
const tempName = (name: string): string => `.${name}.${process.pid}-${++tempCounter}.tmp`;
const OWN_DEPTH = /^\d+\.png$/;
const OWN_RAW = /^\d+\.npy$/;

export const frameBaseName = (index: number): string => String(index).padStart(6, '0');

export interface RecorderOptions {
  format: RecordFormat;
  overwrite: boolean;
  /** Stop recording (not the run) once the recording would grow past this many bytes. */
  maxBytes?: number;
  manifest: ManifestInit;
  /** One line per event a user should see (recording stopped, files kept on overwrite). */
  onWarning?: (line: string) => void;
  /** File layer; tests inject failures here. */
  fs?: RecorderFs;
  /** zlib level for PNG (default 4). */
  pngLevel?: number;
}

/** `recordings/<input-name>-<YYYYMMDD-HHMMSS>` under the current directory, in local time. */
export function defaultRecordingDir(inputName: string, now: Date = new Date()): string {
  const base = basename(inputName.replace(/[\\/]+$/, '')) || 'input';
  const stem = (extname(base) ? base.slice(0, -extname(base).length) : base) || base;
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'input';
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join(process.cwd(), 'recordings', `${safe}-${stamp}`);
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

interface Prepared {
  frame: Omit<RecordedFrame, 'depth16' | 'raw'>;
  pngRows?: Buffer;
  npy?: Buffer;
  gray16?: Buffer;
}

/**
 * Writes one recording dir. All disk work runs on one internal queue in call
 * order, so callers may fire write() without awaiting and the jsonl stays in
 * frame order; pixel buffers are copied synchronously inside write(), so the
 * caller may reuse them as soon as write() returns.
 */
export class Recorder {
  private readonly fs: RecorderFs;
  private readonly manifest: RecordingManifest;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private faulted = false;
  private closed = false;
  private closing: Promise<RecordingManifest> | undefined;
  private lastIndex = -1;
  private bytes = 0;
  private encoder: Ffv1Encoder | undefined;
  private mkvFrames = 0;

  private constructor(readonly dir: string, private readonly opts: RecorderOptions, fs: RecorderFs, manifest: RecordingManifest) {
    this.fs = fs;
    this.manifest = manifest;
  }

  static async create(dir: string, opts: RecorderOptions): Promise<Recorder> {
    const fs = opts.fs ?? defaultRecorderFs();
    const abs = resolve(dir);
    const kind = await fs.isDirectory(abs).catch(() => null);
    if (kind === false) throw new DepthVideoError('OUTPUT_DIR', `${abs} is a file, not a directory: choose another --record dir`, { file: abs });
    if (kind) {
      const entries = await fs.readdir(abs);
      if (entries.length > 0) {
        if (!opts.overwrite) {
          throw new DepthVideoError('RECORDING', `${abs} is not empty: choose another --record dir or pass --overwrite`, { file: abs });
        }
        try {
          await clearRecording(fs, abs, opts.onWarning);
        } catch (e) {
          throw new DepthVideoError('OUTPUT_DIR', `cannot clear the previous recording in ${abs} (${errorText(e)}): choose another --record dir`, { file: abs, cause: e });
        }
      }
    }
    const manifest: RecordingManifest = {
      version: 1,
      complete: false,
      ...opts.manifest,
      format: opts.format,
      segments: [],
      startedAt: new Date().toISOString(),
      endedAt: null,
      framesRecorded: 0,
      stoppedReason: null,
    };
    const rec = new Recorder(abs, opts, fs, manifest);
    try {
      await fs.mkdir(abs);
      if (opts.format === 'png16' || opts.format === 'both') await fs.mkdir(join(abs, DEPTH_DIR));
      if (opts.format === 'float32' || opts.format === 'both') await fs.mkdir(join(abs, RAW_DIR));
      // Writing the manifest is the writability check: same temp+rename path every frame uses.
      await rec.saveManifest();
    } catch (e) {
      throw new DepthVideoError('OUTPUT_DIR', `cannot write recording dir ${abs} (${errorText(e)}): choose a writable --record dir`, { file: abs, cause: e });
    }
    return rec;
  }

  get recording(): boolean {
    const seg = this.manifest.segments[this.manifest.segments.length - 1];
    return !this.faulted && !this.closed && seg !== undefined && seg.endFrame === null;
  }

  /** Disk work still queued (frames accepted by write() but not yet on disk). */
  get pending(): number {
    return this.queued;
  }

  get stoppedReason(): string | null {
    return this.manifest.stoppedReason;
  }

  get framesRecorded(): number {
    return this.manifest.framesRecorded;
  }

  /** Open a segment at frameIndex; no-op when already recording, closed or stopped by a fault. */
  start(frameIndex: number): void {
    if (this.recording || this.faulted || this.closed) return;
    this.manifest.segments.push({ startFrame: frameIndex, endFrame: null });
    this.enqueue(() => this.saveManifest());
  }

  /** Close the open segment: frames with index >= frameIndex are not recorded. */
  stop(frameIndex: number): void {
    if (!this.recording) return;
    this.closeSegment(frameIndex);
    this.enqueue(() => this.saveManifest());
  }

  write(frame: RecordedFrame): Promise<void> {
    if (!this.recording) return Promise.resolve();
    const seg = this.manifest.segments[this.manifest.segments.length - 1];
    // Frames still in flight from before start() or repeated indices would make
    // the segments and file names lie; they are skipped, not errors.
    if (frame.index < seg.startFrame || frame.index <= this.lastIndex) return Promise.resolve();
    const n = frame.width * frame.height;
    if (frame.depth16.length !== n || frame.raw.length !== n) {
      this.fault(`bad frame ${frame.index}: ${frame.depth16.length}/${frame.raw.length} samples for ${frame.width}x${frame.height}`, frame.index);
      return Promise.resolve();
    }
    this.lastIndex = frame.index;
    const { depth16, raw, ...meta } = frame;
    const fmt = this.opts.format;
    const prepared: Prepared = { frame: meta };
    if (fmt === 'png16' || fmt === 'both') prepared.pngRows = filterRows16(frame.width, frame.height, depth16);
    if (fmt === 'float32' || fmt === 'both') prepared.npy = encodeNpy([frame.height, frame.width], raw);
    if (fmt === 'ffv1') prepared.gray16 = gray16leBytes(depth16);
    return this.enqueue(() => (fmt === 'ffv1' ? this.writeFfv1(prepared) : this.writeFiles(prepared)), frame.index);
  }

  /** Finish: close the open segment, flush, and write the manifest with complete: true. */
  close(stoppedReason?: string): Promise<RecordingManifest> {
    this.closing ??= this.doClose(stoppedReason ?? null);
    return this.closing;
  }

  private async doClose(reason: string | null): Promise<RecordingManifest> {
    if (this.recording) this.closeSegment(this.lastIndex + 1);
    this.closed = true;
    // A fault inside the queue appends a manifest save; wait until the tail is stable.
    let tail: Promise<void>;
    do {
      tail = this.queue;
      await tail;
    } while (tail !== this.queue);
    if (this.encoder) await this.finishEncoder();
    if (this.manifest.stoppedReason === null) this.manifest.stoppedReason = reason;
    this.manifest.endedAt = new Date().toISOString();
    this.manifest.complete = true;
    try {
      await this.saveManifest();
    } catch (e) {
      this.manifest.complete = false;
      this.warn(`could not complete ${join(this.dir, MANIFEST)} (${errorText(e)}): the recorded frames are intact; frames.jsonl lists them`);
    }
    return structuredClone(this.manifest);
  }

  private closeSegment(endFrame: number): void {
    const seg = this.manifest.segments[this.manifest.segments.length - 1];
    if (seg && seg.endFrame === null) seg.endFrame = Math.max(endFrame, seg.startFrame);
  }

  private enqueue(job: () => Promise<void>, frameIndex?: number): Promise<void> {
    this.queued++;
    const p = this.queue.then(async () => {
      try {
        if (!this.faulted || frameIndex === undefined) await job();
      } catch (e) {
        this.fault(describeWriteError(e), frameIndex ?? this.lastIndex + 1, e);
      } finally {
        this.queued--;
      }
    });
    this.queue = p;
    return p;
  }

  private warn(line: string): void {
    this.opts.onWarning?.(line);
  }

  /** Stop recording for good, once, leaving what is on disk consistent. */
  private fault(reason: string, atFrame: number, cause?: unknown): void {
    if (this.faulted) return;
    this.faulted = true;
    this.manifest.stoppedReason = reason;
    this.closeSegment(atFrame);
    const detail = cause === undefined ? '' : ` (${errorText(cause)})`;
    this.warn(`recording stopped: ${reason}${detail} in ${this.dir}; ${counted(this.manifest.framesRecorded, 'frame')} kept, the run continues`);
    // Best effort: on a full disk this may fail too, and the manifest on disk
    // then still says complete:false, which is true.
    this.queue = this.queue.then(() => this.saveManifest()).catch(() => undefined);
  }

  private async saveManifest(): Promise<void> {
    await this.atomicWrite(join(this.dir, MANIFEST), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  private async atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
    const dir = resolve(path, '..');
    const tmp = join(dir, tempName(basename(path)));
    try {
      await this.fs.writeFile(tmp, data);
      await this.fs.rename(tmp, path);
    } catch (e) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  private lineFor(rec: FrameRecord): string {
    return `${JSON.stringify(rec)}\n`;
  }

  private overLimit(extra: number): boolean {
    return this.opts.maxBytes !== undefined && this.bytes + extra > this.opts.maxBytes;
  }

  private async writeFiles(p: Prepared): Promise<void> {
    const f = p.frame;
    const base = frameBaseName(f.index);
    const files: Array<{ rel: string; data: Buffer }> = [];
    if (p.pngRows) {
      files.push({ rel: `${DEPTH_DIR}/${base}.png`, data: await pngFromFiltered(f.width, f.height, p.pngRows, this.opts.pngLevel) });
    }
    if (p.npy) files.push({ rel: `${RAW_DIR}/${base}.npy`, data: p.npy });
    const rec: FrameRecord = { ...f };
    for (const file of files) {
      if (file.rel.startsWith(DEPTH_DIR)) rec.depth = file.rel;
      else rec.raw = file.rel;
    }
    const line = this.lineFor(rec);
    const size = files.reduce((a, b) => a + b.data.length, 0) + Buffer.byteLength(line);
    if (this.overLimit(size)) {
      this.fault(`size limit reached (${this.opts.maxBytes} bytes)`, f.index);
      return;
    }
    const done: string[] = [];
    try {
      for (const file of files) {
        const path = join(this.dir, file.rel);
        await this.atomicWrite(path, file.data);
        done.push(path);
      }
      await this.fs.appendFile(join(this.dir, FRAMES), line);
    } catch (e) {
      // No jsonl line for this frame, so its files must not linger as if recorded.
      for (const path of done) await this.fs.unlink(path).catch(() => undefined);
      throw e;
    }
    this.bytes += size;
    this.manifest.framesRecorded++;
  }

  private async writeFfv1(p: Prepared): Promise<void> {
    const f = p.frame;
    const gray = p.gray16 as Buffer;
    if (!this.encoder) this.encoder = new Ffv1Encoder(join(this.dir, MKV), f.width, f.height);
    if (f.width !== this.encoder.width || f.height !== this.encoder.height) {
      throw new Error(`frame ${f.index} is ${f.width}x${f.height} but ${MKV} is ${this.encoder.width}x${this.encoder.height}`);
    }
    try {
      await this.encoder.write(f.pts, gray);
    } catch (e) {
      const text = errorText(e);
      throw Object.assign(new Error(`ffmpeg writing ${MKV}: ${text}`), { code: /No space left/i.test(text) ? 'ENOSPC' : /quota/i.test(text) ? 'EDQUOT' : undefined });
    }
    const rec: FrameRecord = { ...f, depth: MKV, mkvFrame: this.mkvFrames };
    const line = this.lineFor(rec);
    await this.fs.appendFile(join(this.dir, FRAMES), line);
    this.mkvFrames++;
    this.manifest.framesRecorded++;
    // The encoded size is only known after ffmpeg wrote it, so this limit can
    // overshoot by what ffmpeg buffers (a frame or two).
    this.bytes += Buffer.byteLength(line);
    if (this.opts.maxBytes !== undefined) {
      const mkvSize = (await this.fs.size(join(this.dir, MKV)).catch(() => null)) ?? 0;
      if (this.bytes + mkvSize >= this.opts.maxBytes) {
        this.fault(`size limit reached (${this.opts.maxBytes} bytes)`, f.index + 1);
        await this.finishEncoder();
      }
    }
  }

  private async finishEncoder(): Promise<void> {
    const enc = this.encoder;
    if (!enc) return;
    const err = await enc.finish();
    if (err && !this.faulted) this.fault(`ffmpeg failed finishing ${MKV}`, this.lastIndex + 1, new Error(err));
  }
}

function describeWriteError(e: unknown): string {
  const code = errCode(e);
  if (code === 'ENOSPC') return 'disk full (ENOSPC)';
  if (code === 'EDQUOT') return 'disk quota exceeded (EDQUOT)';
  return code ? `write error (${code})` : 'write error';
}

/**
 * With --overwrite, remove only what a recording consists of (manifest.json,
 * frames.jsonl, depth.mkv, our temp files, and NNNNNN.png / NNNNNN.npy inside
 * depth/ and raw/); anything else a user keeps there stays, with a warning.
 */
async function clearRecording(fs: RecorderFs, dir: string, onWarning?: (line: string) => void): Promise<void> {
  const top = await fs.readdir(dir);
  for (const name of top) {
    if (name === MANIFEST || name === FRAMES || name === MKV || isTempName(name)) await fs.unlink(join(dir, name));
  }
  let kept = 0;
  for (const [sub, own] of [[DEPTH_DIR, OWN_DEPTH], [RAW_DIR, OWN_RAW]] as const) {
    const path = join(dir, sub);
    if (!(await fs.isDirectory(path))) continue;
    const names = await fs.readdir(path);
    for (const name of names) {
      if (own.test(name) || isTempName(name)) await fs.unlink(join(path, name));
      else kept++;
    }
    if ((await fs.readdir(path)).length === 0) await fs.rmdir(path);
  }
  const others = (await fs.readdir(dir)).filter((n) => n !== DEPTH_DIR && n !== RAW_DIR).length;
  if (kept + others > 0) onWarning?.(`--overwrite: cleared the previous recording in ${dir}; kept ${counted(kept + others, 'unrelated file')}`);
}
