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
