import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeDepth } from '../../src/render/normalize.js';
import { toUint16 } from '../../src/render/colormap.js';
import { countFrames, decodeGray16, decodeRgb, expectedDepth16, makeClip, maxAbsDiff, parseNpy, readJsonl, root, runCli, tempDir, type CliResult } from './helpers.js';

const W = 64;
const H = 48;
const N = 12;
const RATE = 10;

describe('depth-video --record (through the CLI)', () => {
  let dir: string;
  let clip: string;
  let rec: string;
  let run: CliResult;
  let input: Uint8Array[];

  beforeAll(() => {
    dir = tempDir('cli');
    clip = makeClip(join(dir, 'clip.mkv'), { width: W, height: H, frames: N, rate: RATE });
    input = decodeRgb(clip, W, H);
    rec = join(dir, 'rec');
    run = runCli([clip, '--model', 'analytic', '--stabilize', 'off', '--sync', '--record', rec, '--record-format', 'both', '--json', '-q']);
  });

  it('runs without --out and records every inferred frame in frames.jsonl, pts strictly increasing', () => {
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { frames: { inferred: number }; output: string | null };
    expect(summary.output).toBeNull();
    expect(summary.frames.inferred).toBe(N);
    const lines = readJsonl(join(rec, 'frames.jsonl'));
    expect(lines).toHaveLength(summary.frames.inferred);
    expect(lines.map((l) => l.index)).toEqual([...Array(N).keys()]);
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      expect(l.pts as number).toBeCloseTo(i / RATE, 6);
      if (i > 0) expect(l.pts as number).toBeGreaterThan(lines[i - 1]!.pts as number);
      expect(l.depth).toBe(`depth/${String(i).padStart(6, '0')}.png`);
      expect(l.raw).toBe(`raw/${String(i).padStart(6, '0')}.npy`);
      expect(l.width).toBe(W);
      expect(l.height).toBe(H);
      expect(l.droppedBefore).toBe(0);
      expect(typeof l.wallTime).toBe('number');
      expect(typeof l.inferMs).toBe('number');
      expect(existsSync(join(rec, l.depth as string))).toBe(true);
    }
  });

  it('writes PNG16 depth equal to the normalised analytic depth within ±1 LSB (decoded by ffmpeg)', () => {
    expect(input).toHaveLength(N);
    for (let i = 0; i < N; i++) {
      const [png] = decodeGray16(join(rec, 'depth', `${String(i).padStart(6, '0')}.png`), W, H);
      const want = expectedDepth16(input[i]!, W, H);
      expect(maxAbsDiff(png!, want), `frame ${i}`).toBeLessThanOrEqual(1);
      // Not a constant picture: the test clip has structure, so does the depth.
      expect(Math.max(...png!) - Math.min(...png!)).toBe(65535);
    }
  });

  it('writes float32 .npy that numpy can read and that round-trip to the recorded depth exactly', () => {
    const lines = readJsonl(join(rec, 'frames.jsonl'));
    for (const i of [0, 5, N - 1]) {
      const npy = parseNpy(join(rec, 'raw', `${String(i).padStart(6, '0')}.npy`));
      expect(npy.descr).toBe('<f4');
      expect(npy.fortran).toBe(false);
      expect(npy.shape).toEqual([H, W]);
      expect(npy.data).toHaveLength(W * H);
      // The model output itself: channel mean of [0,1] pixels.
      const rgb = input[i]!;
      for (const p of [0, 77, W * H - 1]) {
        expect(npy.data[p]!).toBeCloseTo((rgb[p * 3]! + rgb[p * 3 + 1]! + rgb[p * 3 + 2]!) / 765, 6);
      }
      // Exact: jsonl's range is the array's range, and normalising the array gives the PNG bit for bit.
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of npy.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      expect(lines[i]!.rawMin).toBe(lo);
      expect(lines[i]!.rawMax).toBe(hi);
      const [png] = decodeGray16(join(rec, 'depth', `${String(i).padStart(6, '0')}.png`), W, H);
      expect(maxAbsDiff(toUint16(normalizeDepth(npy.data, lo, hi)), png!)).toBe(0);
    }
  });

  it('completes the manifest with model, sha256, sizes, spec, render settings and tool version', () => {
    const m = JSON.parse(readFileSync(join(rec, 'manifest.json'), 'utf8')) as Record<string, any>;
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(m.version).toBe(1);
    expect(m.complete).toBe(true);
    expect(m.tool).toEqual({ name: 'depth-video', version: pkg.version });
    expect(m.model.name).toBe('analytic');
    expect(m.model.untrained).toBe(true);
    expect(m.model.sha256).toBe(createHash('sha256').update(readFileSync(m.model.path as string)).digest('hex'));
    expect(m.input).toEqual({ path: clip, width: W, height: H, frameRate: RATE });
    expect(m.frameSize).toEqual({ width: W, height: H });
    expect(m.inferenceSize).toEqual({ width: W, height: H });
    expect(m.spec).toMatchObject({ mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB', native: true });
    expect(m.render).toEqual({ colormap: 'inferno', invert: false, highContrast: false, layout: 'depth' });
    expect(m.stabilize).toBeNull();
    expect(m.format).toBe('both');
    expect(m.segments).toEqual([{ startFrame: 0, endFrame: N }]);
    expect(m.framesRecorded).toBe(N);
    expect(m.stoppedReason).toBeNull();
    expect(Date.parse(m.startedAt as string)).toBeLessThanOrEqual(Date.parse(m.endedAt as string));
  });

  it('replay renders exactly the recorded frames, and --info summarises the recording', () => {
    const out = join(dir, 'replay.mp4');
    const r = runCli(['replay', rec, '--out', out, '--colormap', 'viridis']);
    expect(r.code, r.stderr).toBe(0);
    expect(countFrames(out)).toBe(N);
    expect(r.stderr).not.toMatch(/incomplete/);
    const info = runCli(['replay', rec, '--info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout) as { frames: number; complete: boolean; problems: string[]; frameRate: { num: number; den: number } };
    expect(j).toMatchObject({ frames: N, complete: true, problems: [], frameRate: { num: RATE, den: 1 } });
  });

  it('refuses a non-empty recording dir without --overwrite, before the run starts', () => {
    const before = statSync(join(rec, 'manifest.json')).mtimeMs;
    const r = runCli([clip, '--model', 'analytic', '--record', rec]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/recording dir .*rec is not empty: .*--overwrite/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/UNTRAINED/); // failed before the model was even loaded
    expect(statSync(join(rec, 'manifest.json')).mtimeMs).toBe(before);
  });

  it('refuses a recording dir it cannot create, before the run starts', () => {
    const r = runCli([clip, '--model', 'analytic', '--record', '/proc/depth-video-no/rec']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^depth-video: cannot create recording dir \/proc\/depth-video-no\/rec .*choose a writable --record dir\n$/);
  });

  it('--record-paused sets up the recording but records nothing until toggled', () => {
    const rec3 = join(dir, 'paused');
    const r = runCli([clip, '--model', 'analytic', '--sync', '--record', rec3, '--record-paused', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(rec3, 'manifest.json'), 'utf8')) as { complete: boolean; framesRecorded: number; segments: unknown[] };
    expect(m).toMatchObject({ complete: true, framesRecorded: 0, segments: [] });
    expect(existsSync(join(rec3, 'frames.jsonl'))).toBe(false);
  });

  it('--record-max-gb stops the recording, not the run', () => {
    const rec2 = join(dir, 'small');
    const out = join(dir, 'full.mp4');
    // ~5 kB: a few of the ~1 kB 64x48 16-bit PNGs.
    const r = runCli([clip, '--model', 'analytic', '--stabilize', 'off', '--sync', '--out', out, '--record', rec2, '--record-max-gb', '0.000005']);
    expect(r.code, r.stderr).toBe(0);
    expect(countFrames(out)).toBe(N);
    expect(r.stderr).toMatch(/recording stopped: size limit reached/);
    const m = JSON.parse(readFileSync(join(rec2, 'manifest.json'), 'utf8')) as { complete: boolean; framesRecorded: number; stoppedReason: string; segments: Array<{ startFrame: number; endFrame: number }> };
    expect(m.complete).toBe(true);
    expect(m.stoppedReason).toMatch(/size limit/);
    expect(m.framesRecorded).toBeGreaterThan(0);
    expect(m.framesRecorded).toBeLessThan(N);
    expect(readJsonl(join(rec2, 'frames.jsonl'))).toHaveLength(m.framesRecorded);
    expect(readdirSync(join(rec2, 'depth'))).toHaveLength(m.framesRecorded);
    expect(m.segments).toEqual([{ startFrame: 0, endFrame: m.framesRecorded }]);
    let bytes = 0;
    for (const f of readdirSync(join(rec2, 'depth'))) bytes += statSync(join(rec2, 'depth', f)).size;
    expect(bytes).toBeLessThanOrEqual(5_000);
  });

  it('--record-format ffv1 with the default dir: one depth.mkv with the same 16-bit values, replayable', () => {
    const cwd = tempDir('cwd');
    const r = runCli([clip, '--model', 'analytic', '--stabilize', 'off', '--sync', '--record-format', 'ffv1', '--record'], cwd);
    expect(r.code, r.stderr).toBe(0);
    const made = readdirSync(join(cwd, 'recordings'));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^clip-\d{8}-\d{6}$/);
    const ffv1 = join(cwd, 'recordings', made[0]!);
    expect(readdirSync(ffv1).sort()).toEqual(['depth.mkv', 'frames.jsonl', 'manifest.json']);
    const frames = decodeGray16(join(ffv1, 'depth.mkv'), W, H);
    expect(frames).toHaveLength(N);
    // A deterministic run (sync, stabilisation off): the same values as the PNG run above.
    for (let i = 0; i < N; i++) {
      const [png] = decodeGray16(join(rec, 'depth', `${String(i).padStart(6, '0')}.png`), W, H);
      expect(maxAbsDiff(frames[i]!, png!), `frame ${i}`).toBe(0);
    }
    const out = join(dir, 'replay-ffv1.mkv');
    const rp = runCli(['replay', ffv1, '--out', out]);
    expect(rp.code, rp.stderr).toBe(0);
    expect(countFrames(out)).toBe(N);
  });
});
