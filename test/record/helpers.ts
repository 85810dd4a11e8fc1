import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { FFMPEG as ffmpeg, ROOT as root, BIN as bin } from '../helpers/media.js';
import { BIN as bin, FFMPEG as ffmpeg, ROOT as root } from '../helpers/media.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `dv-record-${tag}-`));
}

/** A lossless RGB clip (FFV1 bgr0), so decoded pixels are the same for the tool and the test. */
export function makeClip(path: string, opts: { width: number; height: number; frames: number; rate: number; src?: string }): string {
  const src = opts.src ?? 'testsrc2';
  const res = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `${src}=size=${opts.width}x${opts.height}:rate=${opts.rate}`,
    '-frames:v', String(opts.frames), '-c:v', 'ffv1', '-pix_fmt', 'bgr0', path]);
  if (res.status !== 0) throw new Error(`ffmpeg: ${res.stderr.toString()}`);
  return path;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd = root): CliResult {
  const res = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Starts the CLI without waiting (for the kill tests); `group`: in its own process group, so its ffmpeg children can be killed with it. */
export function spawnCli(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}, group = false) {
  return spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
}

function ffmpegRaw(path: string, pixFmt: string): Buffer {
  const res = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', path, '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'], { maxBuffer: 1 << 28 });
  if (res.status !== 0) throw new Error(`ffmpeg decoding ${path}: ${res.stderr.toString()}`);
  return res.stdout;
}

/** Every frame of a file as rgb24, decoded by ffmpeg. */
export function decodeRgb(path: string, width: number, height: number): Uint8Array[] {
  const buf = ffmpegRaw(path, 'rgb24');
  const n = width * height * 3;
  const out: Uint8Array[] = [];
  for (let off = 0; off + n <= buf.length; off += n) out.push(new Uint8Array(buf.subarray(off, off + n)));
  return out;
}

/** Every frame of an image or video as gray16le samples, decoded by ffmpeg (not by our PNG code). */
export { ffmpegGray16 as decodeGray16 } from '../recorder/helpers.js';

/** Number of video frames ffmpeg finds in a file (packets, no decoding). */
export function countFrames(path: string): number {
  const res = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`ffmpeg counting ${path}: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
}

/**
 * What the analytic model with --stabilize off records for one frame: the
 * channel mean of [0,1] pixels, min/max-normalised, as 16-bit.
 */
export function expectedDepth16(rgb: Uint8Array, width: number, height: number): Uint16Array {
  const n = width * height;
  const f = Math.fround;
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = f(f(f(rgb[i * 3]! / 255) + f(rgb[i * 3 + 1]! / 255)) + f(rgb[i * 3 + 2]! / 255)) / 3;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(((d[i]! - lo) / (hi - lo)) * 65535 + 0.5);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** numpy .npy v1.0 parsed by hand (not by our writer's reader): header dict and float32 data. */
export function parseNpy(path: string): { descr: string; fortran: boolean; shape: number[]; data: Float32Array; headerLen: number } {
  const buf = readFileSync(path);
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${path}: bad magic`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const dataStart = start + headerLen;
  if ((dataStart % 16) !== 0) throw new Error(`${path}: data not 16-byte aligned (${dataStart})`);
  const bytes = buf.subarray(dataStart);
  const data = new Float32Array(bytes.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
  return { descr, fortran, shape, data, headerLen: dataStart };
}

/** Only the complete lines (ending in a newline): a killed writer may leave a torn last line, which readers ignore. */
export function readCompleteJsonl(path: string): Array<Record<string, unknown>> {
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}
