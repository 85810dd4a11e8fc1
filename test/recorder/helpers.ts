import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManifestInit, RecordedFrame } from '../../src/sinks/recorder/index.js';

export { FFMPEG as ffmpeg } from '../helpers/media.js';
import { FFMPEG as ffmpeg } from '../helpers/media.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `dv-rec-${tag}-`));
}

/** Deterministic pseudo-random numbers, so failures reproduce. */
export { mulberry32 as rng } from '../../src/inference/generate/random.js';
import { mulberry32 as rng } from '../../src/inference/generate/random.js';

/** A depth-like frame: smooth ramp plus noise, touching both 0 and 65535. */
export function makeFrame(index: number, pts: number, width = 40, height = 30): RecordedFrame {
  const r = rng(index + 1);
  const depth16 = new Uint16Array(width * height);
  const raw = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = Math.min(65535, Math.max(0, Math.round(((x + y + index) / (width + height)) * 65535 + (r() - 0.5) * 3000)));
      depth16[i] = v;
      raw[i] = (v / 65535) * 12.5 + r() * 1e-3 - 0.25;
    }
  }
  depth16[0] = 0;
  depth16[1] = 65535;
  let rawMin = Infinity;
  let rawMax = -Infinity;
  for (const v of raw) { rawMin = Math.min(rawMin, v); rawMax = Math.max(rawMax, v); }
  return { index, pts, wallTime: 1_700_000_000_000 + index * 40, inferMs: 12.5 + index, rawMin, rawMax, droppedBefore: index % 2, width, height, depth16, raw };
}

export function manifestInit(width = 40, height = 30): ManifestInit {
  return {
    tool: { name: 'depth-video', version: '0.1.0' },
    model: { name: 'test-model', path: '/models/test.onnx', sha256: null, untrained: true },
    input: { path: '/videos/clip.mp4', width, height, frameRate: 25 },
    frameSize: { width, height },
    inferenceSize: { width: 32, height: 32 },
    spec: {
      width: 32, height: 32, keepAspect: true, resizeMethod: 'lower_bound', multipleOf: 32,
      mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channelOrder: 'RGB',
      inputInterpolation: 'bicubic', outputInterpolation: 'bicubic', outputAlignCorners: false,
    },
    render: { colormap: 'inferno', layout: 'depth' },
    stabilize: null,
  };
}

/** Decode any image/video file with ffmpeg to gray16le frames. */
export function ffmpegGray16(path: string, width: number, height: number): Uint16Array[] {
  const res = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', path, '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray16le', '-'], { maxBuffer: 1 << 28 });
  if (res.status !== 0) throw new Error(`ffmpeg failed: ${res.stderr.toString()}`);
  const out = res.stdout;
  const n = width * height;
  const frames: Uint16Array[] = [];
  for (let off = 0; off + n * 2 <= out.length; off += n * 2) {
    const f = new Uint16Array(n);
    for (let i = 0; i < n; i++) f[i] = out.readUInt16LE(off + i * 2);
    frames.push(f);
  }
  return frames;
}
