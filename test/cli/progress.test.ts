import { describe, expect, it } from 'vitest';
import { fileLine } from '../../src/cli/batch.js';
import { batchProgressText, framesDone, progressText } from '../../src/cli/progress.js';
import { statusText } from '../../src/cli/queue.js';
import { summaryText } from '../../src/cli/summary.js';
import { counted } from '../../src/count.js';
import { damageText } from '../../src/pipeline/damage.js';
import type { RunSummary } from '../../src/pipeline/run.js';

describe('progressText', () => {
  it('shows done/total, fps and the ETA from the remaining frames', () => {
    expect(progressText({ done: 30, total: 120, elapsedMs: 3000, fps: 10 }, 10)).toBe('[###.......] 30/120 frames  10.0 fps  ETA 0:09');
  });
  it('plain lines have no bar; unknown totals have no ETA', () => {
    expect(progressText({ done: 30, total: 120, elapsedMs: 3000, fps: 10 }, 0)).toBe('30/120 frames  10.0 fps  ETA 0:09');
    expect(progressText({ done: 5, total: null, elapsedMs: 1000, fps: 5 })).toBe('5 frames  5.0 fps  ETA --:--');
  });
});

describe('counts and their nouns agree', () => {
  it('one is singular; zero, many and fractions are plural', () => {
    expect([0, 1, 2, 1.5].map((n) => counted(n, 'frame'))).toEqual(['0 frames', '1 frame', '2 frames', '1.5 frames']);
    expect(counted(1, 'kind')).toBe('1 kind');
    // With a total, the noun follows the total.
    expect([framesDone(1, null), framesDone(0, null), framesDone(1, 1), framesDone(1, 10), framesDone(0, 1, 'file')]).toEqual(['1 frame', '0 frames', '1/1 frame', '1/10 frames', '0/1 file']);
  });

  it('in the progress lines, without and with a total', () => {
    expect(progressText({ done: 1, total: null, elapsedMs: 100, fps: 10 })).toBe('1 frame  10.0 fps  ETA --:--');
    expect(progressText({ done: 1, total: 1, elapsedMs: 100, fps: 10 }, 0)).toBe('1/1 frame  10.0 fps  ETA 0:00');
    expect(batchProgressText({ filesDone: 0, files: 1, framesDone: 1, frames: null, elapsedMs: 100, fps: 10 }, 0)).toBe('0/1 file  1 frame  10.0 fps  ETA --:--');
    expect(batchProgressText({ filesDone: 1, files: 2, framesDone: 1, frames: 1, elapsedMs: 100, fps: 10 }, 0)).toBe('1/2 files  1/1 frame  10.0 fps  ETA 0:00');
  });

  it('in the run summary, the batch and queue lines and the damage line', () => {
    const summary = {
      interrupted: false, schedule: 'sync', frames: { read: 1, inferred: 1, dropped: 0, written: 1 },
      meanMs: { inference: 5, preprocess: 1, render: 1, sinks: 0 }, inputSize: null, wallMs: 1000, fps: 1,
      model: { label: 'm', untrained: false }, device: { label: 'cpu' }, flicker: null, stabilize: 'off', output: null,
    } as unknown as RunSummary;
    expect(summaryText(summary).split('\n')[0]).toBe('done: 1 frame read, 1 inferred, 0 dropped (sync), 1 written');
    expect(fileLine({ input: '/in/a.png', output: '/out/a.png', status: 'done', frames: 1, wallMs: 500, fps: 2, message: null, code: null, model: { label: 'm', untrained: false } }))
      .toBe('done     /in/a.png -> /out/a.png: 1 frame in 0.5 s (2.0 fps)');
    const status = statusText({
      counts: { waiting: 0, active: 1, delayed: 1, completed: 1, failed: 1 },
      active: [{ id: '1', input: '/in/a.mp4', worker: 'w', progress: { frames: 1, total: null } }],
      retrying: [{ id: '2', input: '/in/b.mp4', attempts: 1, error: 'x' }],
      failed: [{ id: '3', input: '/in/c.mp4', attempts: 1, error: 'y' }],
      completed: [{ id: '4', input: '/in/d.png', result: { output: '/out/d.png', frames: 1, wallMs: 1, damage: null, worker: 'w', model: 'm', untrained: false } }],
    });
    expect(status.split('\n').slice(1)).toEqual([
      'active   /in/a.mp4 1 frame on w',
      'retrying /in/b.mp4 after 1 failed attempt: x',
      'failed   /in/c.mp4 after 1 attempt: y',
      'done     /in/d.png -> /out/d.png (1 frame on w, model m)',
    ]);
    expect(damageText('cut.ts', [{ text: 'Read error', error: true, after: 0.04 }], { count: 1, firstPts: 0, lastPts: 0 }, { expected: null, live: false }))
      .toBe('cut.ts is damaged or truncated: ffmpeg reported "Read error" after 0.04 s; kept 1 frame up to 0.00 s');
  });
});
