import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeVideo, errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';

/**
 * A frame worker that dies (a crash in native code, out of memory) ends the
 * run like Ctrl-C: the frames before the one it was rendering are finished
 * and playable, and one line says what happened and what to do. The seam
 * DEPTH_VIDEO_TEST_WORKER_CRASH=N (honoured only under vitest) ends a
 * worker at its N-th render job.
 */
describe('a frame worker crash', () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    dir = tempDir();
    clip = makeClip(join(dir, 'twelve.mp4'), 'testsrc2=size=96x64:rate=10:duration=1.2');
  });

  for (const ext of ['mp4', 'mkv'] as const) {
    it(`one clear line, exit 1, and the frames before it finished and playable (.${ext})`, async () => {
      const out = join(dir, `crash.${ext}`);
      const r = await runCli([clip, '--out', out, '--model', 'analytic', '--sync', '--workers', '2'], { env: { DEPTH_VIDEO_TEST_WORKER_CRASH: '4' } });
      expect(r.code, r.stderr).toBe(1);
      const line = errorLine(r.stderr);
      // Both workers carry the seam: when the second one also dies, on an earlier frame, or with earlier frames queued, the run stops there.
      const m = new RegExp('^depth-video: (?:a frame worker thread stopped \\(exit code 70\\) at frame (\\d+)|the last frame worker thread stopped \\(exit code 70\\), with frame (\\d+) still to do); '
        + `the (\\d+) frames? before it (?:is|are) in ${out.replace(/[.]/g, '\\.')}; `
        + 'run again, or with --workers 0 to render on the main thread$').exec(line);
      expect(m, line).not.toBeNull();
      const at = Number(m![1] ?? m![2]);
      // Each of the two workers renders about every other frame; the first to die stops at its 4th.
      expect(at).toBeGreaterThanOrEqual(3);
      expect(at).toBeLessThan(12);
      expect(Number(m![3])).toBe(at);
      const input = decodeVideo(clip);
      const output = decodeVideo(out);
      expect(output.pts).toEqual(input.pts.slice(0, at));
    });
  }

  it('outside the tests the seam does nothing', async () => {
    const out = join(dir, 'fine.mp4');
    const r = await runCli([clip, '--out', out, '--model', 'analytic', '--sync', '--workers', '2', '-q'], { env: { DEPTH_VIDEO_TEST_WORKER_CRASH: '4', VITEST: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(decodeVideo(out).pts.length).toBe(12);
  });
});
