import { ffmpegPath } from '../../ffmpeg/binary.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

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

function idBytes(id: number): Buffer {
  const hex = id.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** EBML element size as an 8-byte vint: wasteful by a few bytes but never ambiguous. */
function sizeBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x01;
  let v = BigInt(n);
  for (let i = 7; i >= 1; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return b;
}

function el(id: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([idBytes(id), sizeBytes(body.length), body]);
}

function uintEl(id: number, n: number): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do { bytes.unshift(Number(v & 0xffn)); v >>= 8n; } while (v > 0n);
  return el(id, Buffer.from(bytes));
}

const strEl = (id: number, s: string): Buffer => el(id, Buffer.from(s, 'latin1'));

/** EBML header + Segment (unknown size, as live streams do) + Info + Tracks. */
export function mkvStreamHeader(width: number, height: number): Buffer {
  const ebml = el(0x1a45dfa3, uintEl(0x4286, 1), uintEl(0x42f7, 1), uintEl(0x42f2, 4), uintEl(0x42f3, 8),
    strEl(0x4282, 'matroska'), uintEl(0x4287, 4), uintEl(0x4285, 2));
  const segment = Buffer.concat([idBytes(0x18538067), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  const info = el(0x1549a966, uintEl(0x2ad7b1, 1000 /* ns per tick: 1 µs */), strEl(0x4d80, 'depth-video'), strEl(0x5741, 'depth-video'));
  const video = el(0xe0, uintEl(0xb0, width), uintEl(0xba, height), el(0x2eb524, Buffer.from([0x59, 0x31, 0x00, 0x10])));
  const track = el(0xae, uintEl(0xd7, 1), uintEl(0x73c5, 1), uintEl(0x83, 1), strEl(0x86, 'V_UNCOMPRESSED'), video);
  return Buffer.concat([ebml, segment, info, el(0x1654ae6b, track)]);
}

/** One cluster holding one key frame at `micros`. */
export function mkvFrameCluster(micros: number, gray16le: Uint8Array): Buffer {
  const block = Buffer.concat([Buffer.from([0x81, 0x00, 0x00, 0x80]), gray16le]);
  return el(0x1f43b675, uintEl(0xe7, micros), el(0xa3, block));
}

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
    this.proc.stdin.write(mkvStreamHeader(width, height));
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
