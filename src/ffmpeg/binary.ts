import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { DepthVideoError } from '../errors.js';

let cached: string | undefined;

/**
 * The ffmpeg executable: DEPTH_VIDEO_FFMPEG if set (a system build with more
 * devices or hardware encoders), else the static build that ships inside
 * @ffmpeg-installer/ffmpeg, so a fresh clone needs nothing installed.
 */
export function ffmpegPath(): string {
  if (cached) return cached;
  const override = process.env.DEPTH_VIDEO_FFMPEG;
  if (override) {
    if (!existsSync(override)) {
      throw new DepthVideoError('FFMPEG', `DEPTH_VIDEO_FFMPEG points to ${override}, which does not exist: fix or unset it`, { file: override });
    }
    return (cached = override);
  }
  const require = createRequire(import.meta.url);
  try {
    const mod = require('@ffmpeg-installer/ffmpeg') as { path: string };
    return (cached = mod.path);
  } catch (e) {
    throw new DepthVideoError('FFMPEG', 'no ffmpeg binary for this platform in @ffmpeg-installer/ffmpeg: install ffmpeg and set DEPTH_VIDEO_FFMPEG=/path/to/ffmpeg', { cause: e });
  }
}

export interface Finished {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs a command to its end with stdout ignored and resolves with its exit
 * code and stderr (kept up to `stderrLimit` characters): ffmpeg one-shots
 * (muxing, clips, `ffmpeg -i` probes) and the benchmarks' timed runs.
 * Rejects only when the command cannot be started.
 */
export function runToEnd(cmd: string, args: readonly string[], opts: { detached?: boolean; stderrLimit?: number } = {}): Promise<Finished> {
  const limit = opts.stderrLimit ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.detached ?? false });
    let stderr = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => { if (stderr.length < limit) stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

/** `runToEnd` on ffmpeg. */
export function runFfmpeg(args: readonly string[], opts?: { detached?: boolean; stderrLimit?: number }): Promise<Finished> {
  return runToEnd(ffmpegPath(), args, opts);
}

/** The last line a failed command printed (ffmpeg puts its reason there), or its exit code. */
export function failureLine(r: Finished): string {
  return r.stderr.trim().split('\n').pop() || `exit code ${r.code}`;
}
