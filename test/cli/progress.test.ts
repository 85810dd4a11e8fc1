import { describe, expect, it } from 'vitest';
import { progressText } from '../../src/cli/progress.js';

describe('progressText', () => {
  it('shows done/total, fps and the ETA from the remaining frames', () => {
    expect(progressText({ done: 30, total: 120, elapsedMs: 3000, fps: 10 }, 10)).toBe('[###.......] 30/120 frames  10.0 fps  ETA 0:09');
  });
  it('plain lines have no bar; unknown totals have no ETA', () => {
    expect(progressText({ done: 30, total: 120, elapsedMs: 3000, fps: 10 }, 0)).toBe('30/120 frames  10.0 fps  ETA 0:09');
    expect(progressText({ done: 5, total: null, elapsedMs: 1000, fps: 5 })).toBe('5 frames  5.0 fps  ETA --:--');
  });
});
