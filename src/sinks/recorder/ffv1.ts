import { ffmpegPath } from '../../ffmpeg/binary.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkvFrameCluster, mkvStreamHeader } from '../../ffmpeg/mkv-stream.js';

/**
 * FFV1 recording: one persistent ffmpeg reads our frames on stdin and writes
 * a lossless gray16le FFV1 Matroska file.
 *
 * Timestamps: raw video on a pipe has no timestamps, and forcing a fixed rate
 * would put every recorded frame on an evenly spaced grid, which is wrong as
 * soon as frames are dropped, recording is toggled, or the source is VFR.
 * So stdin is a minimal *live Matroska stream* that we mux ourselves: one
 * V_UNCOMPRESSED track (pixel format named by the 'Y1\0\x10' fourcc = gray16le)
 * and one cluster per frame whose timecode is the source pts in microseconds.
 * ffmpeg runs with `-copyts -vsync passthrough`, so each frame keeps its source
 * pts. Limits: the output Matroska time base is 1 ms, so pts are rounded to the
 * millisecond there (frames.jsonl holds the exact value); pts must increase, so
 * a repeated or backwards pts is nudged 1 µs past the previous one; negative
 * pts are clamped to 0.
 */

// One ffmpeg for the whole tool, so DEPTH_VIDEO_FFMPEG applies here too.
export { ffmpegPath };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A copy of the samples as gray16le bytes (a plain memcpy on little-endian hosts). */
export function gray16leBytes(data: Uint16Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const out = Buffer.alloc(data.length * 2);
  for (let i = 0; i < data.length; i++) out.writeUInt16LE(data[i], i * 2);
  return out;
}

/** A persistent ffmpeg turning our Matroska stream into an FFV1 file. */
export class Ffv1Encoder {
  private readonly proc: ChildProcessWithoutNullStreams;
  private stderr = '';
  private lastMicros = -1;
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private pipeError: Error | undefined;

  constructor(readonly outPath: string, readonly width: number, readonly height: number) {
    this.proc = spawn(ffmpegPath(), [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      '-f', 'matroska', '-i', 'pipe:0',
      // Intra-only with per-slice CRCs: a torn or damaged file loses whole frames or slices, never silently wrong depth.
      '-map', '0:v:0', '-c:v', 'ffv1', '-level', '3', '-g', '1', '-slices', '4', '-slicecrc', '1', '-pix_fmt', 'gray16le',
      '-copyts', '-vsync', 'passthrough',
      '-f', 'matroska', '-y', outPath,
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (s: string) => { this.stderr = (this.stderr + s).slice(-4000); });
    this.proc.stdout.resume();
    this.proc.stdin.on('error', (e) => { this.pipeError = e; });
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (e) => { this.pipeError = e; this.exitCode = null; resolve(null); });
      this.proc.on('close', (code) => { this.exitCode = code; resolve(code); });
    });
    this.proc.stdin.write(mkvStreamHeader(width, height, 'gray16le'));
  }

  /** Last lines ffmpeg printed, for a one-line warning. */
  get errorText(): string {
    const lines = this.stderr.trim().split('\n').filter((l) => l.trim());
    return lines[lines.length - 1] ?? this.pipeError?.message ?? 'ffmpeg exited';
  }

  get failed(): boolean {
    return this.pipeError !== undefined || (this.exitCode !== undefined);
  }

  /** Hand one frame to ffmpeg; resolves when the pipe accepted it (backpressure). */
  async write(pts: number, gray16le: Uint8Array): Promise<void> {
    if (this.failed) throw new Error(this.errorText);
    const micros = Math.max(Math.round(Math.max(pts, 0) * 1e6), this.lastMicros + 1);
    this.lastMicros = micros;
    const ok = this.proc.stdin.write(mkvFrameCluster(micros, gray16le));
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => { this.proc.stdin.off('drain', done); this.proc.off('close', done); resolve(); };
        this.proc.stdin.once('drain', done);
        this.proc.once('close', done);
      });
    }
    if (this.failed) throw new Error(this.errorText);
  }

  /** Finish the file; resolves with an error text when ffmpeg did not exit cleanly. */
  async finish(): Promise<string | null> {
    if (this.exitCode === undefined) this.proc.stdin.end();
    const code = await this.exited;
    return code === 0 && !this.pipeError ? null : this.errorText;
  }

  /** Kill without finishing (used after a fault). */
  kill(): void {
    if (this.exitCode === undefined) this.proc.kill('SIGKILL');
  }
}

/** Decode a whole FFV1/gray16 file to frames, in file order. */
export function decodeGray16Frames(path: string, width: number, height: number): Promise<Uint16Array[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', path,
      '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray16le', 'pipe:1']);
    const chunks: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (b: Buffer) => chunks.push(b));
    proc.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    proc.on('error', reject);
    proc.on('close', (code) => {
      const all = Buffer.concat(chunks);
      const frameBytes = width * height * 2;
      const n = Math.floor(all.length / frameBytes);
      if (code !== 0 && n === 0) { reject(new Error(err.trim().split('\n').pop() ?? `ffmpeg exited with ${code}`)); return; }
      const frames: Uint16Array[] = [];
      for (let i = 0; i < n; i++) {
        const f = new Uint16Array(width * height);
        for (let k = 0; k < f.length; k++) f[k] = all.readUInt16LE(i * frameBytes + k * 2);
        frames.push(f);
      }
      resolve(frames);
    });
  });
}
