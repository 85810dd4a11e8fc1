import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const FFMPEG: string = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'depth-video.js');

export function tempDir(prefix = 'dv-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs ffmpeg to completion; throws with its stderr on failure. */
export function ffmpeg(args: string[]): void {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

/** A clip from lavfi video (and optional audio) sources. */
export function makeClip(path: string, video: string, opts: { audio?: boolean; codec?: string[]; seconds?: number } = {}): string {
  const args = ['-f', 'lavfi', '-i', video];
  if (opts.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000${opts.seconds ? `:duration=${opts.seconds}` : ''}`);
  args.push(...(opts.codec ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']));
  if (opts.audio) args.push('-c:a', 'aac', '-shortest');
  args.push(path);
  ffmpeg(args);
  return path;
}

export interface DecodedFrames {
  readonly width: number;
  readonly height: number;
  /** pts of every frame in seconds. */
  readonly pts: number[];
  /** RGB24 frames (only when asked). */
  readonly frames: Buffer[];
}

/**
 * Decodes a file's video with ffmpeg itself (independent of the code under
 * test). -copyts: the pts are the ones stored in the file, as a player shows
 * them, not moved so that the file starts at 0.
 */
export function decodeVideo(path: string, opts: { pixels?: boolean } = {}): DecodedFrames {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-copyts', '-i', path, '-map', '0:v:0', '-vf', 'showinfo', '-vsync', 'passthrough',
    '-f', opts.pixels ? 'rawvideo' : 'null', ...(opts.pixels ? ['-pix_fmt', 'rgb24'] : []), opts.pixels ? 'pipe:1' : '-'],
    { maxBuffer: 1 << 30 });
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`decoding ${path} failed: ${err.slice(-500)}`);
  const tb = /config in time_base: (\d+)\/(\d+)/.exec(err);
  const pts: number[] = [];
  for (const m of err.matchAll(/\] n:\s*\d+ pts:\s*(-?\d+)/g)) pts.push((Number(m[1]) * Number(tb![1])) / Number(tb![2]));
  const size = /Output #0[\s\S]*?Stream #0:0[^\n]*?, (\d+)x(\d+)/.exec(err);
  const width = size ? Number(size[1]) : 0;
  const height = size ? Number(size[2]) : 0;
  const frames: Buffer[] = [];
  if (opts.pixels) {
    const n = width * height * 3;
    for (let off = 0; off + n <= r.stdout.length; off += n) frames.push(r.stdout.subarray(off, off + n));
  }
  return { width, height, pts, frames };
}

export function hasAudio(path: string): boolean {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-i', path], { encoding: 'utf8' });
  return /Stream #0:\d+[^:]*: Audio:/.test(r.stderr);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI in a child process. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onSpawn?: (p: ReturnType<typeof spawn>) => void; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 110_000);
    p.on('error', rej);
    p.on('close', (code, signal) => { clearTimeout(t); res({ code, signal, stdout, stderr }); });
    opts.onSpawn?.(p);
  });
}

/** The last line on stderr that is not part of the untrained-model banner. */
export function errorLine(stderr: string): string {
  return stderr.trim().split('\n').filter((l) => l.startsWith('depth-video:')).pop() ?? '';
}
