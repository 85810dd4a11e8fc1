import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSummaries, summarizeDir, summarizeProfile, type CpuProfile } from '../../src/bench/profile-summary.js';
import { tempDir } from '../helpers/media.js';

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber });

describe('profile summary', () => {
  it('sums self time by function, keeps idle apart, and names the thread by its script', () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('render', 'file:///app/dist/pipeline/frame-worker.js', 9) },
        { id: 4, callFrame: frame('put', 'file:///app/dist/render/kernels.js', 84) },
      ],
      samples: [2, 3, 3, 4, 2, 3],
      timeDeltas: [1000, 2000, 2000, 500, 3000, 1000],
    };
    const s = summarizeProfile(p, false);
    expect(s).toMatchObject({ role: 'frame worker', totalMs: 9.5, idleMs: 4, busyMs: 5.5 });
    expect(s.top).toEqual([{ name: 'render pipeline/frame-worker.js:10', ms: 5 }, { name: 'put render/kernels.js:85', ms: 0.5 }]);
    expect(summarizeProfile(p, true).role).toBe('main');
    expect(formatSummaries([s], 2).split('\n')).toEqual([
      'frame worker: busy 6 of 10 ms (58%, 2.75 ms a frame)',
      '       5.0 ms  render pipeline/frame-worker.js:10',
      '       0.5 ms  put render/kernels.js:85',
    ]);
  });

  it('reads the profiles node writes for each thread: a busy worker and an idle main thread', () => {
    const dir = tempDir('dv-prof-');
    mkdirSync(join(dir, 'app', 'pipeline'), { recursive: true });
    // ~300 ms of work in a named function on a worker whose script is a frame worker's path; the main thread waits.
    writeFileSync(join(dir, 'app', 'pipeline', 'frame-worker.js'),
      'function spin(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }\nspin(300);\n');
    writeFileSync(join(dir, 'app', 'main.mjs'),
      "import { Worker } from 'node:worker_threads';\nconst w = new Worker(new URL('./pipeline/frame-worker.js', import.meta.url));\nw.on('exit', () => setTimeout(() => {}, 50));\n");
    const profiles = join(dir, 'profiles');
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, join(dir, 'app', 'main.mjs')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const threads = summarizeDir(profiles);
    expect(threads.map((t) => t.role)).toEqual(['main', 'frame worker']);
    const worker = threads[1]!;
    expect(worker.top[0]!.name).toMatch(/^spin pipeline\/frame-worker\.js:1$/);
    expect(worker.top[0]!.ms).toBeGreaterThan(150);
    // The main thread only waited for it.
    expect(threads[0]!.idleMs).toBeGreaterThan(threads[0]!.busyMs);
  });
});
