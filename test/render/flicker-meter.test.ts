import { describe, expect, it } from 'vitest';
import { FlickerMeter } from '../../src/render/flicker-meter.js';

const W = 16;
const H = 8;
const frame = (v: number) => ({ width: W, height: H, data: new Uint8Array(W * H * 3).fill(v) });
const unit = (v: number) => new Float32Array(W * H).fill(v);

describe('FlickerMeter', () => {
  it('is the mean |change| of the normalised depth over pixels whose input stood still', () => {
    const m = new FlickerMeter(1);
    expect(m.value).toBeNull();
    m.add(frame(100), unit(0.2));
    m.add(frame(100), unit(0.5)); // still input, depth moved by 0.3
    m.add(frame(100), unit(0.4)); // and by 0.1
    expect(m.value!).toBeCloseTo(0.2, 6);
  });

  it('ignores pixels whose input changed, and pairs with no still pixel', () => {
    const m = new FlickerMeter(1);
    m.add(frame(10), unit(0));
    m.add(frame(200), unit(1)); // every pixel changed: no pair counted
    expect(m.value).toBeNull();
    const a = frame(50);
    const b = frame(50);
    b.data.fill(250, 0, (W * H * 3) / 2); // top half changes
    const ua = unit(0.5);
    const ub = unit(0.5);
    ub.fill(0.9, 0, (W * H) / 2); // depth changes only where the input did
    m.add(a, ua);
    m.add(b, ub);
    expect(m.value).toBe(0);
  });

  it('samples every step-th pixel of every step-th row', () => {
    // 16x8 with step 4: the grid is x in {0,4,8,12}, y in {0,4}, 8 of 128 pixels.
    const onGrid = (i: number) => (i % W) % 4 === 0 && Math.floor(i / W) % 4 === 0;
    const m = new FlickerMeter(4);
    m.add(frame(100), unit(0.5));
    // Depth moves by 0.4 on the grid only: the mean over the samples is 0.4
    // (over every pixel it would be 0.4 * 8 / 128 = 0.025).
    m.add(frame(100), unit(0.5).map((v, i) => (onGrid(i) ? 0.9 : v)));
    expect(m.value!).toBeCloseTo(0.4, 6);
    // Depth moves off the grid only: the samples saw no change.
    m.add(frame(100), unit(0.1).map((v, i) => (onGrid(i) ? 0.9 : v)));
    expect(m.value!).toBeCloseTo(0.2, 6);
  });

  it('starts over when the frame size changes', () => {
    const m = new FlickerMeter(4);
    m.add(frame(1), unit(0));
    m.add({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(1) }, new Float32Array(64).fill(1));
    expect(m.value).toBeNull();
  });

  it('keeps at most about 33,000 samples a frame: step 4 up to 720x720, wider above', () => {
    const m = new FlickerMeter();
    expect(m.stepFor(1920, 1080)).toBe(8);
    expect(m.stepFor(640, 360)).toBe(4);
    expect(m.stepFor(1280, 720)).toBe(6);
    expect(m.stepFor(3840, 2160)).toBe(16);
    expect(m.stepFor(2560, 1440)).toBe(11);
    // A 4K pair: depth moved by 0.25 everywhere, input still; the coarse grid measures the same.
    const big = (v: number) => ({ width: 3840, height: 2160, data: new Uint8Array(3840 * 2160 * 3).fill(v) });
    m.add(big(7), new Float32Array(3840 * 2160).fill(0.5));
    m.add(big(7), new Float32Array(3840 * 2160).fill(0.75));
    expect(m.value).toBeCloseTo(0.25, 6);
  });
});
