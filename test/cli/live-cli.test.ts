import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeVideo, runCli, tempDir } from '../helpers/media.js';

describe('--webcam through the CLI (lavfi stands in for the camera)', () => {
  it('records the rendered stream to --out and stops at exactly --max-frames', async () => {
    const out = join(tempDir(), 'live.mp4');
    const r = await runCli(['--webcam', 'lavfi:testsrc2=size=160x90:rate=30', '--no-preview', '--model', 'analytic-slow', '--max-frames', '20', '--out', out, '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { frames: { written: number; dropped: number }; schedule: string };
    expect(s.frames.written).toBe(20);
    // A slow model on a 30 fps camera: async drops frames, yet every captured frame is written.
    expect(s.schedule).toBe('async');
    expect(s.frames.dropped).toBeGreaterThan(0);
    expect(decodeVideo(out).pts.length).toBe(20);
  });

  it('no such camera is one line that says what is available', async () => {
    const r = await runCli(['--webcam', '/dev/video97', '--no-preview', '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/depth-video: no camera \/dev\/video97/);
  });
});
