import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/run.js';
import type { FrameSink, OutputFrame } from '../../src/pipeline/types.js';
import { getColormap } from '../../src/render/colormap.js';
import { colormapToYuv420p, rgbToYuv420p } from '../../src/render/yuv.js';
import type { LayoutName } from '../../src/types.js';
import { decodeVideo, FFMPEG, makeClip, tempDir } from '../helpers/media.js';

/**
 * The frame workers against the single-thread path. Frames are rendered on
 * several threads at once into reused shared buffers, and come out in
 * order; a slot handed back too early, a frame delivered out of turn or a
 * worker reading the wrong buffer shows as a wrong picture here.
 */

interface Captured {
  index: number;
  pts: number;
  inferred: boolean;
  yuv: Buffer;
  rgb: Buffer;
  unit: Buffer;
  width: number;
  height: number;
}

/** A sink per picture format, copying what it is given (the buffers are reused after write()). */
function capture(): { sinks: FrameSink[]; frames: Captured[] } {
  const frames: Captured[] = [];
  const yuvSink: FrameSink = {
    name: 'yuv', picture: 'yuv420p', finish() {},
    write(out: OutputFrame) {
      frames.push({
        index: out.frame.index, pts: out.frame.pts, inferred: out.inferred, yuv: Buffer.from(out.yuv!.data), rgb: Buffer.alloc(0),
        unit: Buffer.from(new Uint8Array(out.depth.unit.buffer, out.depth.unit.byteOffset, out.depth.unit.byteLength)),
        width: out.yuv!.width, height: out.yuv!.height,
      });
    },
  };
  const rgbSink: FrameSink = {
    name: 'rgb', finish() {},
    write(out: OutputFrame) {
      const f = frames[frames.length - 1]!;
      expect(f.index).toBe(out.frame.index);
      expect([out.image!.width, out.image!.height]).toEqual([f.width, f.height]);
      f.rgb = Buffer.from(out.image!.data);
    },
  };
  return { sinks: [yuvSink, rgbSink], frames };
}

async function run(clip: string, workers: number, layout: LayoutName, sync = true, model = 'analytic'): Promise<Captured[]> {
  const { sinks, frames } = capture();
  const summary = await runPipeline({
    input: { kind: 'file', path: clip }, output: null, model, sync, workers, allowDownload: false, sinks,
    // The analytic model at a size of its own, so the depth is upsampled as with a real network.
    spec: { native: false, width: 64, height: 48, keepAspect: false },
    render: { colormap: 'turbo', invert: false, highContrast: false, layout, stabilize: 'align', stabilizeWindow: 5 },
  });
  expect(summary.workers).toBe(workers);
  expect(summary.frames.written).toBe(frames.length);
  return frames;
}

/** ffmpeg's conversion of an RGB picture to yuv420p, as an encoder fed RGB24 gets it. */
function ffmpegYuv(rgb: Buffer, w: number, h: number): Buffer {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'],
    { input: rgb, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

function maxDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('frame workers', () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    dir = tempDir();
    // Odd size: pictures for yuv420p are padded to 162x92. Moving content, so every frame differs.
    clip = makeClip(join(dir, 'clip.mkv'), "nullsrc=s=161x91:r=25:d=1.6,geq=r='mod(X*3+N*7,256)':g='mod(Y*5+N*3,256)':b='128+100*sin((X+Y+N*4)/9)'",
      { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
  });

  for (const layout of ['depth', 'side-by-side'] as const) {
    it(`--workers 3 gives the single-thread path's frames, in order, pixel for pixel (${layout})`, async () => {
      const single = await run(clip, 0, layout);
      const parallel = await run(clip, 3, layout);
      const input = decodeVideo(clip);
      expect(single.length).toBe(40);
      expect(parallel.map((f) => f.index)).toEqual([...Array(40).keys()]);
      expect(parallel.map((f) => f.pts)).toEqual(input.pts);
      expect(single.map((f) => f.pts)).toEqual(input.pts);
      for (let k = 0; k < 40; k++) {
        const a = parallel[k]!;
        const b = single[k]!;
        expect([a.width, a.height]).toEqual(layout === 'depth' ? [162, 92] : [322, 92]);
        expect(a.inferred && b.inferred, `frame ${k}`).toBe(true);
        // Same functions on other threads: the same bytes.
        expect(a.unit.equals(b.unit), `frame ${k} unit`).toBe(true);
        expect(a.rgb.equals(b.rgb), `frame ${k} rgb`).toBe(true);
        expect(a.yuv.equals(b.yuv), `frame ${k} yuv420p`).toBe(true);
        // And the picture the encoder now gets is the one ffmpeg made from RGB, within a level.
        expect(maxDiff(a.yuv, ffmpegYuv(b.rgb, b.width, b.height)), `frame ${k} against ffmpeg's conversion`).toBeLessThanOrEqual(1);
      }
      // Frames differ from each other (a stuck slot would repeat one).
      expect(parallel[0]!.yuv.equals(parallel[20]!.yuv)).toBe(false);
    });
  }

  it('async with a layout that shows the input: every frame composes its own input with the latest depth', async () => {
    // analytic-slow takes far longer than a frame, so most frames are dropped and repeat the latest depth.
    const frames = await run(clip, 2, 'side-by-side', false, 'analytic-slow');
    const input = decodeVideo(clip, { pixels: true });
    expect(frames.map((f) => f.index)).toEqual([...Array(40).keys()]);
    expect(frames.filter((f) => !f.inferred).length).toBeGreaterThan(10);
    const W = 322;
    let latestDepth: Buffer | null = null;
    for (const f of frames) {
      const src = input.frames[f.index]!;
      const left = Buffer.alloc(161 * 91 * 3);
      const right = Buffer.alloc(161 * 91 * 3);
      for (let y = 0; y < 91; y++) {
        f.rgb.copy(left, y * 161 * 3, y * W * 3, (y * W + 161) * 3);
        f.rgb.copy(right, y * 161 * 3, (y * W + 161) * 3, (y * W + 322) * 3);
      }
      expect(left.equals(src), `frame ${f.index}: its own input on the left`).toBe(true);
      if (f.inferred) latestDepth = right;
      expect(right.equals(latestDepth!), `frame ${f.index}: the latest inferred depth on the right`).toBe(true);
      expect(f.yuv.equals(Buffer.from(rgbToYuv420p({ width: W, height: 92, data: f.rgb }))), `frame ${f.index} yuv420p`).toBe(true);
    }
  });
  it('async with inputs prepared ahead on the workers: every inferred frame has the depth of its own input', async () => {
    // Per-frame normalisation (no stabiliser), so a frame's depth picture depends on its input alone.
    const depthOf = async (sync: boolean, runMs: number) => {
      const got = new Map<number, Buffer>();
      const sink: FrameSink = {
        name: 'unit', finish() {},
        write(out: OutputFrame) {
          const u = out.depth.unit!;
          if (out.inferred) got.set(out.frame.index, Buffer.from(new Uint8Array(u.buffer, u.byteOffset, u.byteLength)));
        },
      };
      const summary = await runPipeline({
        input: { kind: 'file', path: clip }, output: null, model: 'analytic', sync, workers: 2, allowDownload: false, sinks: [sink],
        spec: { native: false, width: 64, height: 48, keepAspect: false },
        render: { colormap: 'turbo', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 5 },
        // Runs of a steady length whatever the machine's load (a wait, not work), so the async guess has something to go by.
        wrapInfer: (infer) => async (f) => { const r = await infer(f); await new Promise((w) => setTimeout(w, runMs)); return r; },
      });
      return { got, summary };
    };
    const every = await depthOf(true, 0);
    // Runs of 150 ms against a frame every 40 ms.
    const latest = await depthOf(false, 150);
    expect(every.got.size).toBe(40);
    expect(latest.summary.frames.dropped).toBeGreaterThan(10);
    // The frames the session took while busy were prepared ahead on a frame worker.
    expect(latest.summary.frames.preparedAhead).toBeGreaterThanOrEqual(2);
    expect(latest.summary.frames.preparedAhead).toBeLessThanOrEqual(latest.summary.frames.inferred);
    expect(latest.got.size).toBe(latest.summary.frames.inferred);
    for (const [k, unit] of latest.got) expect(unit.equals(every.got.get(k)!), `frame ${k}`).toBe(true);
  });
});

describe('frame workers with yuv420p frames (decoded without conversion)', () => {
  const W = 160;
  const H = 90;
  let clip: string;
  let input: Buffer[];
  beforeAll(() => {
    const dir = tempDir();
    clip = makeClip(join(dir, 'clip.mp4'), `testsrc2=size=${W}x${H}:rate=25:duration=1.6`);
    const raw = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', clip, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { maxBuffer: 1 << 26 }).stdout;
    const n = W * H * 1.5;
    input = [...Array(raw.length / n).keys()].map((k) => raw.subarray(k * n, (k + 1) * n));
  });

  /** Only a yuv420p sink, so layouts that show the input compose in yuv420p. */
  async function runYuv(workers: number, sync: boolean, model: string): Promise<Captured[]> {
    const frames: Captured[] = [];
    const sink: FrameSink = {
      name: 'yuv', picture: 'yuv420p', finish() {},
      write(out: OutputFrame) {
        expect(out.frame.format).toBe('yuv420p');
        frames.push({
          index: out.frame.index, pts: out.frame.pts, inferred: out.inferred, yuv: Buffer.from(out.yuv!.data), rgb: Buffer.alloc(0),
          unit: Buffer.from(new Uint8Array(out.depth.unit.buffer, out.depth.unit.byteOffset, out.depth.unit.byteLength)),
          width: out.yuv!.width, height: out.yuv!.height,
        });
      },
    };
    await runPipeline({
      input: { kind: 'file', path: clip }, output: null, model, sync, workers, allowDownload: false, sinks: [sink],
      spec: { native: false, width: 64, height: 48, keepAspect: false },
      render: { colormap: 'turbo', invert: false, highContrast: false, layout: 'side-by-side', stabilize: 'align', stabilizeWindow: 5 },
    });
    return frames;
  }

  /** The left (input) and right (depth) halves of a side-by-side yuv420p picture, as two W x H yuv420p pictures. */
  function halves(yuv: Buffer): [Buffer, Buffer] {
    const left: Buffer[] = [];
    const right: Buffer[] = [];
    const rows = (off: number, pw: number, ph: number) => {
      for (let y = 0; y < ph; y++) {
        left.push(yuv.subarray(off + 2 * y * pw, off + 2 * y * pw + pw));
        right.push(yuv.subarray(off + 2 * y * pw + pw, off + 2 * (y + 1) * pw));
      }
    };
    // Plane by plane (Y, then U, then V), so each half comes out as a yuv420p picture.
    rows(0, W, H);
    rows(2 * W * H, W / 2, H / 2);
    rows(2 * W * H + (W * H) / 2, W / 2, H / 2);
    return [Buffer.concat(left), Buffer.concat(right)];
  }

  it('sync, --workers 3 and 0 alike: the input planes as decoded beside the depth coloured into yuv420p', async () => {
    const parallel = await runYuv(3, true, 'analytic');
    const single = await runYuv(0, true, 'analytic');
    expect(parallel.length).toBe(40);
    expect(parallel.map((f) => f.index)).toEqual([...Array(40).keys()]);
    for (let k = 0; k < 40; k++) {
      expect(parallel[k]!.yuv.equals(single[k]!.yuv), `frame ${k}`).toBe(true);
      const [left, right] = halves(parallel[k]!.yuv);
      expect(left.equals(input[k]!), `frame ${k}: its input's planes, unconverted`).toBe(true);
      const unit = new Float32Array(new Uint8Array(parallel[k]!.unit).buffer);
      expect(right.equals(Buffer.from(colormapToYuv420p(unit, W, H, getColormap('turbo'), false, W, H))), `frame ${k}: its depth`).toBe(true);
    }
  });

  it('async: every frame composes its own input planes with the latest depth', async () => {
    const frames = await runYuv(2, false, 'analytic-slow');
    expect(frames.map((f) => f.index)).toEqual([...Array(40).keys()]);
    expect(frames.filter((f) => !f.inferred).length).toBeGreaterThan(10);
    let latest: Buffer | null = null;
    for (const f of frames) {
      const [left, right] = halves(f.yuv);
      expect(left.equals(input[f.index]!), `frame ${f.index}: its own input`).toBe(true);
      if (f.inferred) latest = right;
      expect(right.equals(latest!), `frame ${f.index}: the latest inferred depth`).toBe(true);
    }
  });
});
