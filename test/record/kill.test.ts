import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countFrames, decodeGray16, makeClip, parseNpy, readCompleteJsonl, runCli, spawnCli, tempDir } from './helpers.js';

const W = 96;
const H = 64;

/** Polls until frames.jsonl has at least n complete lines. */
async function waitForLines(path: string, n: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (existsSync(path) && readFileSync(path, 'utf8').split('\n').length - 1 >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} did not reach ${n} lines in ${timeoutMs} ms`);
}

describe('a run killed with SIGKILL while recording', () => {
  it('leaves a consistent recording that replay renders and reports as incomplete', async () => {
    const dir = tempDir('kill');
    const clip = makeClip(join(dir, 'clip.mkv'), { width: W, height: H, frames: 200, rate: 25 });
    const rec = join(dir, 'rec');
    // analytic-slow: same output, ~100+ ms per frame, so the kill lands mid-run.
    const child = spawnCli([clip, '--model', 'analytic-slow', '--sync', '--record', rec, '--record-format', 'both', '-q']);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
    try {
      await waitForLines(join(rec, 'frames.jsonl'), 4, 60_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const manifest = JSON.parse(readFileSync(join(rec, 'manifest.json'), 'utf8')) as { complete: boolean; segments: Array<{ startFrame: number; endFrame: number | null }> };
    expect(manifest.complete).toBe(false);
    expect(manifest.segments).toEqual([{ startFrame: 0, endFrame: null }]);

    // Only whole lines count; a torn last line is the one thing a kill may leave.
    const lines = readCompleteJsonl(join(rec, 'frames.jsonl'));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThan(200);
    for (const l of lines) {
      const [depth] = decodeGray16(join(rec, l.depth as string), W, H);
      expect(depth, `${l.depth as string}`).toHaveLength(W * H);
      const npy = parseNpy(join(rec, l.raw as string));
      expect(npy.shape).toEqual([H, W]);
      expect(npy.data).toHaveLength(W * H);
    }
    // No half-written file under a final name: every non-temp frame file is whole, listed or not.
    for (const name of readdirSync(join(rec, 'depth')).filter((n) => !n.startsWith('.'))) {
      expect(decodeGray16(join(rec, 'depth', name), W, H)[0], name).toHaveLength(W * H);
    }
    for (const name of readdirSync(join(rec, 'raw')).filter((n) => !n.startsWith('.'))) {
      const npy = parseNpy(join(rec, 'raw', name));
      expect(npy.data.length * 4 + npy.headerLen, name).toBe(statSync(join(rec, 'raw', name)).size);
      expect(npy.data).toHaveLength(W * H);
    }

    const out = join(dir, 'replay.mp4');
    const r = runCli(['replay', rec, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(countFrames(out)).toBe(lines.length);
    expect(r.stderr).toMatch(/incomplete/);
    expect(r.stderr).toMatch(/complete: false/);
    const info = runCli(['replay', rec, '--info']);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/status\s+incomplete/);
    expect(info.stdout).toMatch(new RegExp(`frames\\s+${lines.length} usable`));
  });
});
