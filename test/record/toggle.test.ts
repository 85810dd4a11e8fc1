import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunControl } from '../../src/pipeline/control.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { recorderSink, type RecorderSink } from '../../src/sinks/recorder-sink.js';
import { countFrames, decodeGray16, decodeRgb, expectedDepth16, makeClip, maxAbsDiff, readJsonl, runCli, tempDir } from './helpers.js';

const W = 48;
const H = 32;
const N = 14;

/** Recording is on from frame 0; after frame k the toggle is pushed, so it applies from frame k + 1. */
const TOGGLES: Record<number, boolean> = { 2: false, 5: true, 8: false, 10: true };
const SEGMENTS = [{ startFrame: 0, endFrame: 3 }, { startFrame: 6, endFrame: 9 }, { startFrame: 11, endFrame: N }];
const RECORDED = [0, 1, 2, 6, 7, 8, 11, 12, 13];

describe('recording toggled on and off through RunControl (library API)', () => {
  let dir: string;
  let clip: string;
  let png: RecorderSink;
  let ffv1: RecorderSink;

  beforeAll(async () => {
    dir = tempDir('toggle');
    clip = makeClip(join(dir, 'clip.mkv'), { width: W, height: H, frames: N, rate: 25, src: 'mandelbrot' });
    const control = new RunControl('sync');
    const render = { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 15 } as const;
    // Two recorders in one run: the FFV1 file must hold the PNGs' values exactly.
    png = recorderSink({ dir: join(dir, 'png'), format: 'png16', overwrite: false, control, render });
    ffv1 = recorderSink({ dir: join(dir, 'ffv1'), format: 'ffv1', overwrite: false, control, render });
    const summary = await runPipeline({
      input: { kind: 'file', path: clip },
      output: null,
      model: 'analytic',
      sync: true,
      render,
      control,
      sinks: [png, ffv1],
      allowDownload: false,
      hooks: {
        onFrame: (out) => {
          const t = TOGGLES[out.frame.index];
          if (t !== undefined) control.recording.next(t);
        },
      },
    });
    expect(summary.frames.inferred).toBe(N);
  });

  it('lists the segments in the manifest and records only the frames inside them', () => {
    for (const sink of [png, ffv1]) {
      const m = JSON.parse(readFileSync(join(sink.dir, 'manifest.json'), 'utf8')) as { segments: unknown; framesRecorded: number; complete: boolean };
      expect(m.segments).toEqual(SEGMENTS);
      expect(m.framesRecorded).toBe(RECORDED.length);
      expect(m.complete).toBe(true);
      const lines = readJsonl(join(sink.dir, 'frames.jsonl'));
      expect(lines.map((l) => l.index)).toEqual(RECORDED);
      for (let i = 1; i < lines.length; i++) expect(lines[i]!.pts as number).toBeGreaterThan(lines[i - 1]!.pts as number);
    }
    expect(png.stats).toEqual({ framesRecorded: RECORDED.length, framesSkipped: 0 });
  });

  it('each recorded PNG is the depth of its own frame, and the FFV1 file decodes to the same 16-bit values', () => {
    const input = decodeRgb(clip, W, H);
    const mkv = decodeGray16(join(ffv1.dir, 'depth.mkv'), W, H);
    expect(mkv).toHaveLength(RECORDED.length);
    RECORDED.forEach((index, k) => {
      const [p] = decodeGray16(join(png.dir, 'depth', `${String(index).padStart(6, '0')}.png`), W, H);
      expect(maxAbsDiff(p!, expectedDepth16(input[index]!, W, H)), `frame ${index}`).toBeLessThanOrEqual(1);
      expect(maxAbsDiff(mkv[k]!, p!), `mkv frame ${k}`).toBe(0);
    });
  });

  it('replay renders exactly the recorded frames from the PNG and the FFV1 recording', () => {
    for (const sink of [png, ffv1]) {
      const out = join(dir, `${sink === png ? 'png' : 'ffv1'}.mp4`);
      const r = runCli(['replay', sink.dir, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(countFrames(out)).toBe(RECORDED.length);
      // The pts step inside segments is the clip's 25 fps, not the gaps' longer steps.
      expect(r.stderr).toMatch(/at 25\.000 fps/);
    }
  });
});
