import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, decodeVideo, errorLine, makeClip, ROOT, runCli, tempDir } from '../helpers/media.js';

const clip = (path: string, frames: number, size = '64x48') => {
  mkdirSync(join(path, '..'), { recursive: true });
  return makeClip(path, `testsrc2=size=${size}:rate=10:duration=${frames / 10}`);
};

interface Line { input: string; output: string; status: string; frames: number; fps: number; message: string | null; code: string | null }
const jsonLines = (stdout: string): Line[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const byName = (lines: Line[], name: string) => lines.find((l) => l.input.endsWith(name));

/** Every file below dir, relative, hidden ones included. */
function listAll(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? listAll(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]).sort();
}

describe('depth-video batch', () => {
  it('mirrors a nested folder, reports the broken file, skips the finished output', async () => {
    const dir = tempDir('dv-batch-');
    const input = join(dir, 'in');
    const out = join(dir, 'out');
    clip(join(input, 'a.mp4'), 10);
    clip(join(input, 'sub', 'b.mov'), 15);
    mkdirSync(join(input, 'sub', 'deeper'), { recursive: true });
    makeClip(join(input, 'sub', 'deeper', 'c.png'), 'testsrc2=size=64x48', { codec: ['-frames:v', '1'] });
    writeFileSync(join(input, 'sub', 'broken.mp4'), 'not a video at all\n'.repeat(20));
    writeFileSync(join(input, 'notes.txt'), 'folders are walked for media files only');

    // An earlier batch finished a.mp4.
    const first = await runCli(['batch', join(input, 'a.mp4'), '--out-dir', out, '--model', 'analytic', '-q']);
    expect(first.code, first.stderr).toBe(0);
    const before = statSync(join(out, 'a.mp4'));
    expect(decodeVideo(join(out, 'a.mp4')).pts).toHaveLength(10);

    const r = await runCli(['batch', input, '--out-dir', out, '--model', 'analytic', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(4);
    expect(byName(lines, 'a.mp4')).toMatchObject({ status: 'skipped', frames: 0 });
    expect(byName(lines, 'b.mov')).toMatchObject({ status: 'done', frames: 15, output: join(out, 'sub', 'b.mp4'), model: { label: 'analytic', untrained: true } });
    expect(byName(lines, 'c.png')).toMatchObject({ status: 'done', frames: 1, output: join(out, 'sub', 'deeper', 'c.png') });
    expect(byName(lines, 'broken.mp4')).toMatchObject({ status: 'failed', code: 'INPUT_NOT_MEDIA' });
    expect(byName(lines, 'broken.mp4')!.message).toMatch(/broken\.mp4: not a video or image ffmpeg can read/);

    // One error line on stderr, a line per file, and the totals.
    const failedLines = r.stderr.split('\n').filter((l) => l.startsWith('FAILED'));
    expect(failedLines).toHaveLength(1);
    expect(failedLines[0]).toMatch(/broken\.mp4: .*not a video or image/);
    expect(r.stderr).toMatch(/^skipped +.*a\.mp4 -> .*a\.mp4: finished by an earlier run/m);
    expect(r.stderr).toMatch(/^done +.*b\.mov -> .*b\.mp4: 15 frames .*\[UNTRAINED TEST MODEL\]$/m);
    expect(r.stderr).toMatch(/UNTRAINED TEST MODEL: analytic/);
    expect(r.stderr).toMatch(/batch finished: 2 done, 1 skipped, 1 failed, 0 damaged/);

    // The finished output was not rewritten.
    const after = statSync(join(out, 'a.mp4'));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(decodeVideo(join(out, 'sub', 'b.mp4')).pts).toHaveLength(15);
    const png = decodeVideo(join(out, 'sub', 'deeper', 'c.png'));
    expect([png.width, png.height, png.pts.length]).toEqual([64, 48, 1]);
    // Nothing half-made, nothing for the broken file.
    expect(listAll(out)).toEqual(['.depth-video-batch.json', 'a.mp4', 'sub/b.mp4', 'sub/deeper/c.png']);

    // Other options redo the file (atomically: a new inode); the same ones skip it again.
    const again = await runCli(['batch', join(input, 'a.mp4'), '--out-dir', out, '--model', 'analytic', '--invert', '--json', '-q']);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout)[0]).toMatchObject({ status: 'done', frames: 10 });
    expect(statSync(join(out, 'a.mp4')).ino).not.toBe(before.ino);
  });

  it('keeps an output it did not make unless --overwrite', async () => {
    const dir = tempDir('dv-batch-');
    const input = join(dir, 'in');
    const out = join(dir, 'out');
    clip(join(input, 'x.mp4'), 10);
    mkdirSync(out);
    writeFileSync(join(out, 'x.mp4'), 'precious');
    const r = await runCli(['batch', input, '--out-dir', out, '--model', 'analytic', '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAILED +.*x\.mp4: output .*x\.mp4 already exists and was not made by this batch: pass --overwrite to replace it$/m);
    expect(readFileSync(join(out, 'x.mp4'), 'utf8')).toBe('precious');
    const o = await runCli(['batch', input, '--out-dir', out, '--model', 'analytic', '-q', '--overwrite']);
    expect(o.code, o.stderr).toBe(0);
    expect(decodeVideo(join(out, 'x.mp4')).pts).toHaveLength(10);
  });

  it('refuses a URL out dir in one line', async () => {
    const r = await runCli(['batch', ROOT, '--out-dir', 'http://127.0.0.1:9/depth', '--model', 'analytic']);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/--out-dir http:\/\/127\.0\.0\.1:9\/depth is a URL: only folders are supported/);
  });

  it('Ctrl-C finishes the current output playable; a rerun redoes it and completes the rest', async () => {
    const dir = tempDir('dv-batch-int-');
    const input = join(dir, 'in');
    const out = join(dir, 'out');
    // b is long: frames decoded before the signal still finish (a few per frame
    // worker), and a loaded machine may be well past three when it lands.
    const FRAMES: Record<string, number> = { a: 10, b: 40, c: 10 };
    for (const n of ['a', 'b', 'c']) clip(join(input, `${n}.mp4`), FRAMES[n]!);
    // analytic-slow: ~100+ ms a frame, so b.mp4 is still being made when the signal comes.
    const args = ['batch', input, '--out-dir', out, '--model', 'analytic-slow', '--json'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    const first = await new Promise<Line>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`a.mp4 never finished: ${stderr}`)), 90_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) { clearTimeout(t); res(jsonLines(stdout)[0]!); }
      });
    });
    // Three of b's frames at a's pace (the encoder shows nothing on disk
    // this early: ffmpeg probes its input pipe before creating the file).
    await new Promise((r) => setTimeout(r, (3 * 1000) / first.fps));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/stopping: finishing the current file so far/);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => [l.input.slice(-5), l.status])).toEqual([['a.mp4', 'done'], ['b.mp4', 'interrupted']]);
    const partial = lines[1]!.frames;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(FRAMES.b!);
    // What was done of b is a playable file with exactly the frames the summary counted.
    expect(decodeVideo(join(out, 'b.mp4')).pts).toHaveLength(partial);
    expect(existsSync(join(out, 'c.mp4'))).toBe(false);
    const aBefore = statSync(join(out, 'a.mp4'));

    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).map((l) => [l.input.slice(-5), l.status, l.frames])).toEqual([['a.mp4', 'skipped', 0], ['b.mp4', 'done', FRAMES.b], ['c.mp4', 'done', FRAMES.c]]);
    for (const n of ['a', 'b', 'c']) expect(decodeVideo(join(out, `${n}.mp4`)).pts, n).toHaveLength(FRAMES[n]!);
    expect(statSync(join(out, 'a.mp4')).ino).toBe(aBefore.ino);
    expect(listAll(out)).toEqual(['.depth-video-batch.json', 'a.mp4', 'b.mp4', 'c.mp4']);
  }, 240_000);
});
