import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeVideo, ffmpeg, hasAudio, makeClip, runCli, tempDir } from '../helpers/media.js';

interface Summary {
  frames: { read: number; inferred: number; dropped: number; written: number; preparedAhead: number; preparedUnused: number };
  schedule: string;
  maxWaiting: number;
}

function summaryOf(stdout: string): Summary {
  return JSON.parse(stdout.trim().split('\n').pop()!) as Summary;
}

describe('frame count and timestamps', () => {
  let dir: string;
  let clip: string;
  let inputPts: number[];
  beforeAll(() => {
    dir = tempDir();
    // NTSC rate, so a rounded frame rate would show up as drifting timestamps.
    clip = makeClip(join(dir, 'ntsc.mp4'), 'testsrc2=size=160x90:rate=30000/1001:duration=2', { audio: true, seconds: 2 });
    inputPts = decodeVideo(clip).pts;
  });

  it('the input clip is what the tests think it is', () => {
    expect(inputPts.length).toBe(60);
    expect(inputPts[1]! - inputPts[0]!).toBeCloseTo(1001 / 30000, 9);
  });

  for (const ext of ['mp4', 'mkv', 'webm'] as const) {
    it(`--sync to .${ext}: every frame, same timestamps, audio kept`, async () => {
      const out = join(dir, `sync.${ext}`);
      const r = await runCli([clip, '--out', out, '--model', 'analytic', '--sync', '--json', '-q']);
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r.stdout);
      // Sync never drops, so nothing prepared ahead goes unused.
      expect(s.frames).toMatchObject({ read: 60, inferred: 60, dropped: 0, written: 60, preparedUnused: 0 });
      expect(s.frames.preparedAhead).toBeLessThanOrEqual(60);
      const pts = decodeVideo(out).pts;
      expect(pts.length).toBe(60);
      // MP4 keeps the exact values; Matroska stores milliseconds.
      const exact = ext === 'mp4';
      for (let i = 0; i < 60; i++) {
        expect(Math.abs(pts[i]! - inputPts[i]!), `frame ${i}`).toBeLessThanOrEqual(exact ? 1e-6 : 0.5e-3 + 1e-9);
      }
      expect(hasAudio(out)).toBe(true);
    });
  }

  it('variable frame rate: a gap in the input stays a gap in the output', async () => {
    // 20 frames at 30 fps with a 5-frame hole after frame 9: pts 0..9/30, then 15/30..24/30.
    const vfr = join(dir, 'vfr.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=30:duration=1', '-frames:v', '20',
      '-vf', "setpts='(N+5*gte(N,10))/(30*TB)'", '-vsync', 'passthrough', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', vfr]);
    const want = decodeVideo(vfr).pts;
    expect(want.length).toBe(20);
    expect(want[10]! - want[9]!).toBeCloseTo(6 / 30, 6);
    for (const sync of [true, false]) {
      const out = join(dir, `vfr-${sync ? 'sync' : 'async'}.mp4`);
      const r = await runCli([vfr, '--out', out, '--model', 'analytic', ...(sync ? ['--sync'] : []), '-q']);
      expect(r.code, r.stderr).toBe(0);
      const got = decodeVideo(out).pts;
      expect(got.length).toBe(20);
      for (let i = 0; i < 20; i++) expect(Math.abs(got[i]! - want[i]!), `frame ${i}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('--no-audio drops the audio track', async () => {
    const out = join(dir, 'silent.mp4');
    const r = await runCli([clip, '--out', out, '--model', 'analytic', '--sync', '--no-audio', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(hasAudio(out)).toBe(false);
    expect(decodeVideo(out).pts.length).toBe(60);
  });

  it('async with a slow model drops frames, yet the output has every timestamp', async () => {
    const out = join(dir, 'async.mp4');
    // analytic-slow takes ~100-200 ms a frame against 33 ms between frames.
    const r = await runCli([clip, '--out', out, '--model', 'analytic-slow', '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.schedule).toBe('async');
    expect(s.frames.read).toBe(60);
    expect(s.frames.written).toBe(60);
    expect(s.frames.dropped).toBeGreaterThan(10);
    expect(s.frames.dropped).toBe(s.frames.read - s.frames.inferred);
    expect(s.maxWaiting).toBeLessThanOrEqual(1);
    const pts = decodeVideo(out).pts;
    expect(pts.length).toBe(60);
    for (let i = 0; i < 60; i++) expect(Math.abs(pts[i]! - inputPts[i]!)).toBeLessThanOrEqual(1e-6);
  });

  it('async repeats the latest depth for dropped frames (runs of identical frames)', async () => {
    const out = join(dir, 'async-lossless.mkv');
    const r = await runCli([clip, '--out', out, '--model', 'analytic-slow', '--lossless', '--stabilize', 'off', '--json', '-q', '--no-audio']);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    const frames = decodeVideo(out, { pixels: true }).frames;
    expect(frames.length).toBe(60);
    let changes = 0;
    for (let i = 1; i < frames.length; i++) if (!frames[i]!.equals(frames[i - 1]!)) changes++;
    // testsrc2 changes every frame, so the picture changes exactly at inferred frames.
    expect(changes).toBe(s.frames.inferred - 1);
  });
});
