import { describe, expect, it } from 'vitest';
import { InputBudget, RateMeter } from '../../src/preview/rates.js';

describe('RateMeter', () => {
  it('reads a camera rate from its timestamps, however bunched the deliveries were', () => {
    const m = new RateMeter(2000);
    // 90 frames of a 30 fps camera (timestamps 33.3 ms apart) handed over in three bursts.
    for (let i = 0; i < 90; i++) m.tick((i * 1000) / 30);
    expect(m.fps).toBeCloseTo(30, 6);
  });

  it('counts only the last window, and restarts when the clock goes back', () => {
    const m = new RateMeter(1000);
    for (let i = 0; i < 30; i++) m.tick(i * 100); // 10 fps for 3 s
    for (let i = 1; i <= 40; i++) m.tick(2900 + i * 25); // then 40 fps for 1 s
    expect(m.fps).toBeCloseTo(40, 6);
    m.tick(5);
    expect(m.fps).toBe(0);
    m.tick(55);
    expect(m.fps).toBeCloseTo(20, 6);
  });
});

describe('InputBudget', () => {
  /** Offers a picture every `interval` ms for `ms`, each `bytes` long once sent; returns the pictures started. */
  function offer(b: InputBudget, interval: number, bytes: number, ms: number, viewers = 1): number[] {
    const started: number[] = [];
    for (let t = 0; t < ms; t += interval) {
      if (!b.admit(t)) continue;
      b.started(t);
      b.delivered(t + 5, bytes, viewers);
      started.push(t);
    }
    return started;
  }

  it('lets a 30 fps camera through whole when its pictures are small', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1_500_000, maxTotalBytesPerSecond: 1e9 });
    expect(offer(b, 1000 / 30, 40_000, 3000)).toHaveLength(90);
  });

  it('lets a jittery 30 fps camera through whole', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1_500_000, maxTotalBytesPerSecond: 1e9 });
    let t = 0;
    let n = 0;
    for (let i = 0; i < 300; i++) {
      t += 1000 / 30 + (i % 2 ? 6 : -6); // 27.3 and 39.3 ms apart, 30 fps on average
      if (b.admit(t)) { b.started(t); b.delivered(t + 5, 40_000, 1); n++; }
    }
    expect(n).toBe(300);
  });

  it('holds a faster camera to maxFps a second (plus the bucket of 2)', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1e9, maxTotalBytesPerSecond: 1e9 });
    const started = offer(b, 1000 / 120, 1000, 5000);
    for (let t = 0; t < 4000; t += 50) expect(started.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(32);
    expect(started.length).toBeGreaterThanOrEqual(148);
  });

  it('holds big pictures to maxBytesPerSecond in every second', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1_500_000, maxTotalBytesPerSecond: 1e9 });
    const started = offer(b, 1000 / 30, 150_000, 4000);
    for (let t = 0; t < 3000; t += 50) expect(started.filter((s) => s >= t && s < t + 1000).length * 150_000).toBeLessThanOrEqual(1_500_000);
    // 10 pictures fit in a second.
    expect(started.filter((s) => s >= 1000 && s < 2000)).toHaveLength(10);
  });

  it('shares the total among many viewers', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1_500_000, maxTotalBytesPerSecond: 8_000_000 });
    const started = offer(b, 1000 / 30, 40_000, 4000, 50);
    // 50 viewers x 40 KB: 4 pictures fit in 8 MB a second.
    for (let t = 0; t < 3000; t += 50) expect(started.filter((s) => s >= t && s < t + 1000).length * 40_000 * 50).toBeLessThanOrEqual(8_000_000);
    expect(started.filter((s) => s >= 1000 && s < 2000)).toHaveLength(4);
  });

  it('sends no burst after a stall: pictures start at least half an interval apart', () => {
    const b = new InputBudget({ maxFps: 30, maxBytesPerSecond: 1e9, maxTotalBytesPerSecond: 1e9 });
    const started = offer(b, 1, 1000, 200); // frames arriving 1 ms apart, as after a blocked event loop
    for (let i = 1; i < started.length; i++) expect(started[i]! - started[i - 1]!).toBeGreaterThanOrEqual(500 / 30);
  });
});
