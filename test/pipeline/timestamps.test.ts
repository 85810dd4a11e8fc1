import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runPipeline, type RunSummary } from '../../src/pipeline/run.js';
import { decodeVideo, ffmpeg, hasAudio, makeClip, tempDir } from '../helpers/media.js';

/**
 * Every output container presents each frame at the pts the input had, read
 * the way a player reads the file (decodeVideo uses -copyts, so a file that
 * starts late is not quietly moved back to 0).
 */
const CONTAINERS = ['mp4', 'mkv', 'webm', 'mov'] as const;
type Container = (typeof CONTAINERS)[number];

/**
 * How far a frame may be from the input's pts. Matroska stores every pts in
 * milliseconds. MP4/MOV store them in the input's own time base, exactly,
 * but ffmpeg 4 writes the start offset (an edit list) in the movie's
 * millisecond timescale: the whole timeline may sit up to 0.5 ms off, with
 * every interval exact.
 */
const MS = 0.5e-3 + 1e-9;

function expectSameTimeline(ext: Container, got: number[], want: number[]): void {
  const exactIntervals = ext === 'mp4' || ext === 'mov';
  expect(Math.abs(got[0]! - want[0]!), `first frame at ${got[0]} against the input's ${want[0]}`).toBeLessThanOrEqual(MS);
  for (let i = 1; i < want.length; i++) {
    const err = exactIntervals ? Math.abs(got[i]! - got[0]! - (want[i]! - want[0]!)) : Math.abs(got[i]! - want[i]!);
    expect(err, `frame ${i}: ${got[i]} against the input's ${want[i]}`).toBeLessThanOrEqual(exactIntervals ? 1e-6 : MS);
  }
}

async function encode(input: string, output: string, opts: { audio: boolean; signal?: AbortSignal; onFrame?: () => void }): Promise<RunSummary> {
  return runPipeline({
    input: { kind: 'file', path: input },
    output,
    model: 'analytic',
    sync: true,
    audio: opts.audio,
    render: { colormap: 'gray', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 15 },
    allowDownload: false,
    signal: opts.signal,
    hooks: { onFrame: opts.onFrame },
  });
}

describe('output timestamps in every container', () => {
  let dir: string;
  const clips: Record<string, { path: string; pts: number[] }> = {};
  beforeAll(() => {
    dir = tempDir();
    const cfr = makeClip(join(dir, 'cfr25.mp4'), 'testsrc2=size=96x64:rate=25:duration=2', { audio: true, seconds: 2 });
    // 30 fps with a 5-frame hole, and the video starting at 0.5 s while the audio starts at 0.
    const vfr = join(dir, 'vfr30.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=30:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2',
      '-frames:v', '20', '-vf', "setpts='(N+15+5*gte(N,10))/(30*TB)'", '-vsync', 'passthrough',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', vfr]);
    // MPEG-TS starts its clock at 1.4 s, as broadcast captures do.
    const ten = makeClip(join(dir, 'fps10.ts'), 'testsrc2=size=96x64:rate=10:duration=2', { audio: true, seconds: 2 });
    for (const [name, path] of [['cfr25', cfr], ['vfr30', vfr], ['fps10', ten]] as const) clips[name] = { path, pts: decodeVideo(path).pts };
  });

  it('the inputs are what the tests think they are', () => {
    expect(clips.cfr25!.pts.length).toBe(50);
    expect(clips.cfr25!.pts[0]).toBe(0);
    expect(clips.vfr30!.pts.length).toBe(20);
    expect(clips.vfr30!.pts[0]).toBeCloseTo(0.5, 6);
    expect(clips.vfr30!.pts[10]! - clips.vfr30!.pts[9]!).toBeCloseTo(6 / 30, 6);
    expect(clips.fps10!.pts.length).toBe(20);
    expect(clips.fps10!.pts[0]).toBeGreaterThan(1);
    for (const c of Object.values(clips)) expect(hasAudio(c.path)).toBe(true);
  });

  for (const clip of ['cfr25', 'vfr30', 'fps10']) {
    for (const ext of CONTAINERS) {
      for (const audio of [false, true]) {
        it(`${clip} -> .${ext} ${audio ? 'with' : 'without'} audio: first frame at the input's first pts, every interval kept`, async () => {
          const { path, pts: want } = clips[clip]!;
          const out = join(dir, `${clip}-${audio ? 'av' : 'v'}.${ext}`);
          const s = await encode(path, out, { audio });
          expect(s.frames.written).toBe(want.length);
          const got = decodeVideo(out).pts;
          expect(got.length).toBe(want.length);
          expectSameTimeline(ext, got, want);
          expect(hasAudio(out)).toBe(audio);
        });
      }
    }
  }

  for (const ext of CONTAINERS) {
    it(`an interrupted run to .${ext} (with audio) keeps the input's timeline for the frames it wrote`, async () => {
      const { path, pts: want } = clips.cfr25!;
      const out = join(dir, `interrupted.${ext}`);
      const stop = new AbortController();
      let seen = 0;
      const s = await encode(path, out, { audio: true, signal: stop.signal, onFrame: () => { if (++seen === 12) stop.abort(); } });
      expect(s.interrupted).toBe(true);
      expect(s.frames.written).toBeGreaterThanOrEqual(12);
      expect(s.frames.written).toBeLessThan(want.length);
      const got = decodeVideo(out).pts;
      expect(got.length).toBe(s.frames.written);
      expectSameTimeline(ext, got, want.slice(0, got.length));
      expect(hasAudio(out)).toBe(true);
    });
  }
});
