import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ffmpeg, makeClip, runCli, tempDir } from '../helpers/media.js';

/** Progress lines as printed when stderr is not a terminal. */
const progressLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('progress: '));

describe('progress and summary labels', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });

  it('the demo counts to the clip\'s 120 frames and replaces nothing on a fresh run', async () => {
    const demoDir = join(dir, 'demo');
    const r = await runCli(['demo', '--dir', demoDir, '--model', 'analytic']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`demo: depth video -> ${join(demoDir, 'depth.mp4')}\n`);
    const lines = progressLines(r.stderr);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^progress: \d+\/120 frames /);
    expect(lines[lines.length - 1]).toMatch(/^progress: 120\/120 frames {2}[\d.]+ fps {2}ETA 0:00$/);
    expect(r.stderr).toMatch(/^done: 120 frames read, \d+ inferred, \d+ dropped \(async\), 120 written$/m);

    const again = await runCli(['demo', '--dir', demoDir, '--model', 'analytic']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`demo: depth video (previous demo output replaced) -> ${join(demoDir, 'depth.mp4')}\n`);
  });

  it('--max-frames 60 counts to 60, not to the length of the file', async () => {
    const clip = makeClip(join(dir, 'long.mp4'), 'testsrc2=size=64x48:rate=30:duration=11.4');
    const r = await runCli([clip, '--out', join(dir, 'sixty.mp4'), '--model', 'analytic', '--sync', '--max-frames', '60']);
    expect(r.code, r.stderr).toBe(0);
    const lines = progressLines(r.stderr);
    for (const l of lines) expect(l).toMatch(/^progress: \d+\/60 frames /);
    expect(lines[lines.length - 1]).toMatch(/^progress: 60\/60 frames {2}[\d.]+ fps {2}ETA 0:00$/);
    expect(r.stderr).not.toContain('/342');
    expect(r.stderr).toMatch(/^done: 60 frames read, 60 inferred, 0 dropped \(sync\), 60 written$/m);
  });

  it('a single image is one frame, processed as sync (nothing to pace or drop)', async () => {
    const png = join(dir, 'photo.png');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', png]);
    const r = await runCli([png, '--out', join(dir, 'depth.png'), '--model', 'analytic']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^done: 1 frame read, 1 inferred, 0 dropped \(sync\), 1 written$/m);
    expect(progressLines(r.stderr).pop()).toMatch(/^progress: 1\/1 frame /);
  });
});
