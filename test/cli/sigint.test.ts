import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, decodeVideo, tempDir } from '../helpers/media.js';

/**
 * Stopping a live run from a program (a process manager, a test harness),
 * the two ways the README documents: SIGINT to the depth-video process
 * itself, or to the whole process group when it runs under npx (npm runs it
 * through `sh -c`, which does not pass on a signal sent to npm alone).
 */
const CAMERA = ['--webcam', 'lavfi:testsrc2=size=160x90:rate=30', '--no-preview', '--model', 'analytic'];

interface Stopped {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** From the signal to the exit of the spawned process. */
  readonly ms: number;
}

/** Waits until the run has written `frames` frames (its plain progress lines), then signals `target`. */
function stopAfter(p: ChildProcess, frames: number, target: () => void): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let sentAt = 0;
    const fallback = setTimeout(() => { if (!sentAt) { sentAt = Date.now(); target(); } }, 60_000);
    p.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const done = [...stderr.matchAll(/^progress: (\d+) frames/gm)].map((m) => Number(m[1]));
      if (!sentAt && done.some((n) => n >= frames)) { sentAt = Date.now(); target(); }
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => { clearTimeout(fallback); resolve({ code, signal, stderr, ms: Date.now() - sentAt }); });
  });
}

function expectPlayable(out: string, stderr: string): void {
  const written = Number(/^stopped: \d+ frames read, \d+ inferred, \d+ dropped \(async\), (\d+) written$/m.exec(stderr)?.[1]);
  expect(written, stderr).toBeGreaterThanOrEqual(10);
  const pts = decodeVideo(out).pts;
  expect(pts.length).toBe(written);
  for (let i = 1; i < pts.length; i++) expect(pts[i]!).toBeGreaterThan(pts[i - 1]!);
}

describe('SIGINT from a supervisor', () => {
  it('to the depth-video process itself: exit 130 within seconds, a playable output', async () => {
    const out = join(tempDir(), 'camera.mp4');
    const p = spawn(process.execPath, [BIN, ...CAMERA, '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const r = await stopAfter(p, 10, () => p.kill('SIGINT'));
    expect(r.code, r.stderr).toBe(130);
    expect(r.ms).toBeLessThan(5000);
    expect(r.stderr).toMatch(/stopping: finishing the output so far/);
    expectPlayable(out, r.stderr);
  });

  it('under npx, to the process group: every process is gone within seconds, a playable output', async () => {
    const out = join(tempDir(), 'camera-npx.mp4');
    // detached: the group is npm's own, as a process manager would start it.
    const p = spawn('npx', ['depth-video', ...CAMERA, '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const r = await stopAfter(p, 10, () => process.kill(-p.pid!, 'SIGINT'));
    // npm passes the child's end on: it re-raises the SIGINT on itself once the tool has exited with 130.
    expect(r.signal ?? r.code, r.stderr).toSatisfy((v: unknown) => v === 'SIGINT' || v === 130);
    expect(r.ms).toBeLessThan(5000);
    expect(spawnSync('ps', ['-o', 'pid=', '-g', String(p.pid)], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expectPlayable(out, r.stderr);
  });
});
