import { join } from 'node:path';
import { expect, it } from 'vitest';
import { nodeWebcamSource } from '../../src/sources/node-webcam.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, ffmpeg, runCli, tempDir } from '../helpers/media.js';
import { requireProgram } from '../helpers/prerequisites.js';

// node-webcam shells out to fswebcam once per still; fswebcam's FILE: source
// stands in for a camera (.ci/run installs fswebcam from Debian).
const fswebcam = requireProgram('/usr/bin/fswebcam', 'apt-get install fswebcam');

fswebcam.describe('--webcam-backend node-webcam', () => {
  it('captures stills through fswebcam and runs them through the pipeline', async () => {
    const dir = tempDir();
    const still = join(dir, 'cam.jpg');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', still]);
    const out = join(dir, 'nw.mp4');
    const r = await runCli(['--webcam', `FILE:${still}`, '--webcam-backend', 'node-webcam', '--no-preview', '--model', 'analytic',
      '--max-frames', '12', '--out', out, '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { frames: { written: number }; frameSize: { width: number; height: number }; fps: number };
    expect(s.frames.written).toBe(12);
    expect(s.frameSize).toEqual({ width: 320, height: 180 });
    console.log(`node-webcam (fswebcam FILE: source) end to end: ${s.fps.toFixed(1)} fps`);
    const d = decodeVideo(out);
    expect(d.pts.length).toBe(12);
    // Stills are stamped with wall-clock time: the timeline must increase.
    for (let i = 1; i < d.pts.length; i++) expect(d.pts[i]!).toBeGreaterThan(d.pts[i - 1]!);
  });

  it('takes no still while its slots are full, and follows limitInFlight', async () => {
    const dir = tempDir();
    const still = join(dir, 'cam.jpg');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', still]);
    const src = await nodeWebcamSource({ device: `FILE:${still}`, size: { width: 320, height: 180 }, maxInFlight: 3 });
    const held: VideoFrame[] = [];
    const sub = src.frames$.subscribe((f) => held.push(f));
    const settle = async (n: number) => {
      const end = Date.now() + 20_000;
      while (held.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1000)); // time for several more stills, were any allowed
    };
    try {
      await settle(3);
      expect(held.length).toBe(3);
      src.limitInFlight!(1);
      held[0]!.release(); // 2 alive: still over the cap of 1
      await settle(3);
      expect(held.length).toBe(3);
      held[1]!.release();
      held[2]!.release(); // none alive: one more
      await settle(4);
      expect(held.length).toBe(4);
    } finally {
      sub.unsubscribe();
      src.stop();
    }
  });
});
