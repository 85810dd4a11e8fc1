import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticModel } from '../../src/inference/generate/analytic.js';
import { metadataField } from '../../src/inference/generate/graph.js';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { encodePngRgb8 } from '../../src/preview/photo.js';
import { depthFromInverse, focalLength } from '../../src/render/unproject.js';
import { encodePly, framePath, framePatternRegExp, isFramePattern } from '../../src/sinks/point-cloud.js';
import { readRaw, readRecording } from '../../src/sinks/recorder/index.js';
import { FFMPEG } from '../helpers/media.js';
import { decodeGray16, decodeRgb, makeClip, runCli, tempDir } from '../record/helpers.js';

interface Ply {
  readonly count: number;
  readonly comments: string[];
  readonly xyz: Float32Array;
  readonly rgb: Uint8Array;
}

/** Reads the binary PLY this tool writes, checking the header names every property in order. */
function readPly(path: string): Ply {
  const buf = readFileSync(path);
  const end = buf.indexOf('end_header\n');
  expect(end).toBeGreaterThan(0);
  const lines = buf.subarray(0, end).toString('ascii').split('\n');
  expect(lines[0]).toBe('ply');
  expect(lines[1]).toBe('format binary_little_endian 1.0');
  const props = lines.filter((l) => l.startsWith('property '));
  expect(props).toEqual(['property float x', 'property float y', 'property float z', 'property uchar red', 'property uchar green', 'property uchar blue']);
  const count = Number(/element vertex (\d+)/.exec(lines.join('\n'))![1]);
  const body = buf.subarray(end + 'end_header\n'.length);
  expect(body.length).toBe(count * 15);
  const xyz = new Float32Array(count * 3);
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 3; k++) xyz[i * 3 + k] = body.readFloatLE(i * 15 + k * 4);
    for (let k = 0; k < 3; k++) rgb[i * 3 + k] = body[i * 15 + 12 + k]!;
  }
  return { count, comments: lines.filter((l) => l.startsWith('comment ')), xyz, rgb };
}

/** The analytic model's V for a picture: channel mean, min/max normalised (stabilisation off). */
function analyticV(rgb: Uint8Array, n: number): Float64Array {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = (rgb[i * 3]! + rgb[i * 3 + 1]! + rgb[i * 3 + 2]!) / (3 * 255);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return d.map((v) => (v - lo) / (hi - lo));
}

/** Every vertex sits on its pixel's ray at the formula's distance for V. */
function expectPointsFollowFormula(ply: Ply, v: ArrayLike<number>, w: number, h: number, m: { dMin: number; dMax: number; fovDeg: number }): void {
  const f = focalLength(w, m.fovDeg);
  let worst = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const d = depthFromInverse(v[i]!, m.dMin, m.dMax);
      const want = [((x + 0.5 - w / 2) / f) * d, ((h / 2 - y - 0.5) / f) * d, -d];
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(ply.xyz[i * 3 + k]! - want[k]!) / d);
    }
  }
  expect(worst).toBeLessThan(2e-4);
}

describe('point clouds (.ply)', () => {
  let dir: string;
  const W = 48;
  const H = 32;
  let pixels: Uint8Array;
  let photo: string;

  beforeAll(async () => {
    await ensureGeneratedModel('analytic');
    dir = tempDir('ply');
    pixels = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      pixels[i] = x * 5; pixels[i + 1] = y * 7; pixels[i + 2] = (x * y) % 256;
    }
    photo = join(dir, 'photo.png');
    writeFileSync(photo, await encodePngRgb8({ width: W, height: H, data: pixels }));
  });

  it('a metric model places every point at its own distance in metres; --depth-range does not apply', () => {
    // The analytic model's output (the channel mean, 0..1) read as metres.
    const metric = join(dir, 'metric.onnx');
    writeFileSync(metric, Buffer.concat([buildAnalyticModel(), metadataField('depth_video.output', 'metric-depth')]));
    const out = join(dir, 'metric.ply');
    const r = runCli([photo, '--out', out, '--model', metric, '--depth-range', '2:20', '--fov', '70', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const ply = readPly(out);
    expect(ply.count).toBe(W * H);
    const f = focalLength(W, 70);
    let worst = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const d = (pixels[i * 3]! + pixels[i * 3 + 1]! + pixels[i * 3 + 2]!) / (3 * 255);
        const want = [((x + 0.5 - W / 2) / f) * d, ((H / 2 - (y + 0.5)) / f) * d, -d];
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(ply.xyz[i * 3 + k]! - want[k]!));
      }
    }
    expect(worst).toBeLessThan(1e-6);
    expect(ply.comments.join('\n')).toMatch(/metric depth in metres/);
    expect(ply.comments.join('\n')).not.toMatch(/dmin/);
  });

  it('a photo gives one vertex per pixel, coloured by the photo, at the formula distance', () => {
    const out = join(dir, 'cloud.ply');
    const r = runCli([photo, '--out', out, '--model', 'analytic', '--depth-range', '2:20', '--fov', '70', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const ply = readPly(out);
    expect(ply.count).toBe(W * H);
    expect(Buffer.from(ply.rgb).equals(Buffer.from(pixels))).toBe(true);
    expectPointsFollowFormula(ply, analyticV(pixels, W * H), W, H, { dMin: 2, dMax: 20, fovDeg: 70 });
    // The brightest pixel is nearest, at exactly dMin; the darkest at dMax.
    const z = Array.from({ length: ply.count }, (_, i) => -ply.xyz[i * 3 + 2]!);
    expect(Math.min(...z)).toBeCloseTo(2, 4);
    expect(Math.max(...z)).toBeCloseTo(20, 3);
    // An untrained model is labelled in the file too.
    expect(ply.comments.join('\n')).toMatch(/UNTRAINED TEST MODEL/);
    expect(ply.comments.join('\n')).toMatch(/dmin 2 dmax 20/);
  });

  it('uses the documented defaults (1:10, 60 degrees)', () => {
    const out = join(dir, 'defaults.ply');
    expect(runCli([photo, '--out', out, '--model', 'analytic', '-q']).code).toBe(0);
    expectPointsFollowFormula(readPly(out), analyticV(pixels, W * H), W, H, { dMin: 1, dMax: 10, fovDeg: 60 });
  });

  it('never replaces an existing cloud without --overwrite, and leaves no temp file', () => {
    const out = join(dir, 'exists.ply');
    writeFileSync(out, 'keep me');
    const r = runCli([photo, '--out', out, '--model', 'analytic', '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/exists\.ply already exists: pass --overwrite/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(runCli([photo, '--out', out, '--model', 'analytic', '-q', '--overwrite']).code).toBe(0);
    expect(readPly(out).count).toBe(W * H);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses bad camera settings and --high-contrast with one line', () => {
    const bad = runCli([photo, '--out', join(dir, 'bad.ply'), '--model', 'analytic', '--depth-range', '5:2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--depth-range takes near:far distances.*far distance must be larger/);
    const fov = runCli([photo, '--out', join(dir, 'bad.ply'), '--model', 'analytic', '--fov', '180']);
    expect(fov.code).toBe(2);
    expect(fov.stderr).toMatch(/--fov takes degrees between 0 and 180, e\.g\. 60/);
    const hc = runCli([photo, '--out', join(dir, 'bad.ply'), '--model', 'analytic', '--high-contrast']);
    expect(hc.code).toBe(2);
    expect(hc.stderr).toMatch(/--high-contrast reshapes the depth/);
    expect(existsSync(join(dir, 'bad.ply'))).toBe(false);
  });

  describe('from a video and from a recording', () => {
    const N = 5;
    let clip: string;
    let input: Uint8Array[];

    beforeAll(() => {
      clip = makeClip(join(dir, 'clip.mkv'), { width: W, height: H, frames: N, rate: 10 });
      input = decodeRgb(clip, W, H);
    });

    it('a video with a single .ply output is refused with a pattern to use instead', () => {
      const r = runCli([clip, '--out', join(dir, 'one.ply'), '--model', 'analytic']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is a video, which makes one point cloud per frame: give a pattern such as .*%05d\.ply/);
    });

    it('a video with a pattern writes one cloud per frame, named by frame index', () => {
      const out = join(dir, 'frames', '%05d.ply');
      mkdirSync(join(dir, 'frames'));
      const r = runCli([clip, '--out', out, '--model', 'analytic', '--sync', '--stabilize', 'off', '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(join(dir, 'frames')).sort()).toEqual([...Array(N).keys()].map((i) => `${String(i).padStart(5, '0')}.ply`));
      for (let i = 0; i < N; i++) {
        const ply = readPly(framePath(out, i));
        expect(Buffer.from(ply.rgb).equals(Buffer.from(input[i]!)), `colours of frame ${i}`).toBe(true);
        expectPointsFollowFormula(ply, analyticV(input[i]!, W * H), W, H, { dMin: 1, dMax: 10, fovDeg: 60 });
      }
      // Files the pattern would write count as existing output.
      const again = runCli([clip, '--out', out, '--model', 'analytic', '--sync', '-q']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already holds 00000\.ply.*--overwrite/);
    });

    it("an H.264 video (decoded as yuv420p) gives the colours of ffmpeg's RGB decode", () => {
      const h264 = join(dir, 'clip.mp4');
      const r0 = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=10`, '-frames:v', '3',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', h264]);
      expect(r0.status, r0.stderr.toString()).toBe(0);
      const rgb = decodeRgb(h264, W, H);
      const out = join(dir, 'h264', '%05d.ply');
      mkdirSync(join(dir, 'h264'));
      const r = runCli([h264, '--out', out, '--model', 'analytic', '--sync', '--stabilize', 'off', '-q']);
      expect(r.code, r.stderr).toBe(0);
      for (let i = 0; i < 3; i++) {
        const ply = readPly(framePath(out, i));
        expect(Buffer.from(ply.rgb).equals(Buffer.from(rgb[i]!)), `colours of frame ${i}`).toBe(true);
        expectPointsFollowFormula(ply, analyticV(rgb[i]!, W * H), W, H, { dMin: 1, dMax: 10, fovDeg: 60 });
      }
    });

    it('replay writes a cloud per recorded frame, coloured by the recorded input', () => {
      const rec = join(dir, 'rec');
      expect(runCli([clip, '--model', 'analytic', '--sync', '--stabilize', 'off', '--record', rec, '-q']).code).toBe(0);
      const out = join(dir, 'replayed', 'f%03d.ply');
      mkdirSync(join(dir, 'replayed'));
      const r = runCli(['replay', rec, '--out', out, '--depth-range', '0.5:4', '--fov', '50']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/replayed 5 frames to point clouds/);
      expect(readdirSync(join(dir, 'replayed')).sort()).toEqual(['f000.ply', 'f001.ply', 'f002.ply', 'f003.ply', 'f004.ply']);
      for (let i = 0; i < N; i++) {
        const ply = readPly(framePath(out, i));
        expect(ply.count).toBe(W * H);
        expect(Buffer.from(ply.rgb).equals(Buffer.from(input[i]!)), `colours of frame ${i}`).toBe(true);
        // V is the recorded 16-bit depth, read back by ffmpeg.
        const [d16] = decodeGray16(join(rec, 'depth', `${String(i).padStart(6, '0')}.png`), W, H);
        expectPointsFollowFormula(ply, Array.from(d16!, (d) => d / 65535), W, H, { dMin: 0.5, dMax: 4, fovDeg: 50 });
      }
      const single = runCli(['replay', rec, '--out', join(dir, 'one.ply')]);
      expect(single.code).toBe(1);
      expect(single.stderr).toMatch(/give a pattern such as/);
    });

    it("replay of a metric model's recording places points at the recorded metres, as the live run does", async () => {
      const metric = join(dir, 'metric-video.onnx');
      writeFileSync(metric, Buffer.concat([buildAnalyticModel(), metadataField('depth_video.output', 'metric-depth')]));
      const rec = join(dir, 'rec-metric');
      const recorded = runCli([clip, '--model', metric, '--sync', '--record', rec, '--record-format', 'both', '-q']);
      expect(recorded.code, recorded.stderr).toBe(0);
      const out = join(dir, 'replayed-metric', '%03d.ply');
      mkdirSync(join(dir, 'replayed-metric'));
      const r = runCli(['replay', rec, '--out', out, '--depth-range', '0.5:4', '--fov', '50']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/--depth-range/);
      const { frames } = await readRecording(rec);
      const f = focalLength(W, 50);
      for (let i = 0; i < N; i++) {
        const metres = readRaw(rec, frames[i]!);
        const ply = readPly(framePath(out, i));
        let worst = 0;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const k = y * W + x;
            const d = metres[k]!;
            const want = [((x + 0.5 - W / 2) / f) * d, ((H / 2 - (y + 0.5)) / f) * d, -d];
            for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(ply.xyz[k * 3 + c]! - want[c]!));
          }
        }
        expect(worst, `frame ${i}`).toBeLessThan(1e-6);
        expect(ply.comments.join('\n')).toMatch(/metric depth in metres/);
      }

      // Without the raw output only the normalised depth is left: placed by --depth-range, and said so.
      const rec16 = join(dir, 'rec-metric16');
      expect(runCli([clip, '--model', metric, '--sync', '--record', rec16, '-q']).code).toBe(0);
      mkdirSync(join(dir, 'replayed-metric16'));
      const r16 = runCli(['replay', rec16, '--out', join(dir, 'replayed-metric16', '%03d.ply'), '--depth-range', '0.5:4']);
      expect(r16.code, r16.stderr).toBe(0);
      expect(r16.stderr).toMatch(/the model gives metric depth, but frames without a raw \.npy \(record with --record-format float32 or both\) are placed by --depth-range/);
      expect(readPly(join(dir, 'replayed-metric16', '000.ply')).comments.join('\n')).toMatch(/dmin/);
    });
  });
});

describe('frame patterns', () => {
  it('name files by frame index and find the ones already there', () => {
    expect(isFramePattern('out/%05d.ply')).toBe(true);
    expect(isFramePattern('out%3/cloud.ply')).toBe(false);
    expect(framePath('out/%05d.ply', 42)).toBe(join('out', '00042.ply'));
    expect(framePath('f%d.ply', 7)).toBe('f7.ply');
    const re = framePatternRegExp('x/cloud-%04d.ply');
    expect(re.test('cloud-0001.ply')).toBe(true);
    expect(re.test('cloud-0001.ply.tmp')).toBe(false);
    expect(re.test('cloudy-0001.ply')).toBe(false);
  });
});

describe('encodePly', () => {
  it('writes into the buffer it is given when that is large enough (a run reuses one per frame), the same bytes as a fresh file', () => {
    const positions = Float32Array.from([0, 1, -2, 0.5, -1.5, -3]);
    const rgb = Uint8Array.from([1, 2, 3, 250, 251, 252]);
    const fresh = encodePly(positions, rgb, 2, ['frame 9']);
    const big = Buffer.alloc(fresh.length + 10, 0xee);
    const reused = encodePly(positions, rgb, 2, ['frame 9'], big);
    expect(reused.equals(fresh)).toBe(true);
    expect([reused.buffer, reused.byteOffset]).toEqual([big.buffer, big.byteOffset]);
    // Too small (a longer header, a larger frame): a new buffer, the whole file.
    const grown = encodePly(positions, rgb, 2, ['frame 10'], reused);
    expect(grown.buffer).not.toBe(big.buffer);
    expect(grown.equals(encodePly(positions, rgb, 2, ['frame 10']))).toBe(true);
  });
});
