import { performance } from 'node:perf_hooks';
import { imageToTensor } from '../inference/preprocess.js';
import type { DepthMap, PreprocessSpec, RgbImage } from '../types.js';
import { applyColormap, getColormap } from '../render/colormap.js';
import { equalizeHistogram } from '../render/equalize.js';
import { composeLayout } from '../render/layout.js';
import { normalizeDepth } from '../render/normalize.js';
import { FAMILY_SPECS } from '../inference/families.js';
import { setWasmKernels } from '../render/kernels.js';
import { resizeDepth } from '../render/resize.js';

const SIZES: readonly (readonly [number, number])[] = [
  [1920, 1080],
  [640, 360],
];
const NET_W = 384;
const NET_H = 224;

function syntheticImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 3) {
      data[i] = (x * 3 + y) & 255;
      data[i + 1] = (x ^ y) & 255;
      data[i + 2] = (y * 5) & 255;
    }
  }
  return { width: w, height: h, data };
}

function syntheticDepth(w: number, h: number): DepthMap {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 5 + Math.sin(x * 0.05) * Math.cos(y * 0.07) * 3 + y * 0.01;
  return { width: w, height: h, data };
}

function spec(interp: 'bilinear' | 'bicubic'): PreprocessSpec {
  // MiDaS v2.1 preprocessing, squashed to a fixed net size so every run resizes the same.
  return { ...FAMILY_SPECS['midas-v21'], width: NET_W, height: NET_H, keepAspect: false, multipleOf: 1, inputInterpolation: interp, outputInterpolation: interp };
}

/** Median ms per call: a few warm-up calls (JIT), then `runs` timed batches. */
function timeIt(fn: () => void, runs = 9, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/**
 * Per-frame cost of the render/preprocess kernels on synthetic data, at 1080p
 * and 360p, all with preallocated outputs as the pipeline uses them. Keys are
 * `<kernel>@<W>x<H>`; values are median ms per call.
 */
export async function renderMicrobench(): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  const inputSize = { width: NET_W, height: NET_H };
  const tensor = new Float32Array(3 * NET_W * NET_H);
  const net = syntheticDepth(NET_W, NET_H);
  const lut = getColormap('inferno');
  for (const [w, h] of SIZES) {
    const tag = `@${w}x${h}`;
    const img = syntheticImage(w, h);
    const depth = syntheticDepth(w, h);
    const full = new Float32Array(w * h);
    const unit = new Float32Array(w * h);
    const rgb = new Uint8Array(w * h * 3);
    const sbs = new Uint8Array(w * h * 6);
    normalizeDepth(depth.data, 2, 8, unit);
    applyColormap(unit, lut, rgb);
    const depthRgb: RgbImage = { width: w, height: h, data: rgb };

    // The resamplers twice: WebAssembly kernels (what runs) and the TypeScript reference loops.
    for (const [kind, on] of [['wasm', true], ['ts', false]] as const) {
      setWasmKernels(on);
      result[`imageToTensor.bilinear.to${NET_W}x${NET_H}.${kind}${tag}`] = timeIt(() => imageToTensor(img, spec('bilinear'), inputSize, tensor));
      result[`imageToTensor.bicubic.to${NET_W}x${NET_H}.${kind}${tag}`] = timeIt(() => imageToTensor(img, spec('bicubic'), inputSize, tensor));
      result[`resizeDepth.bilinear.from${NET_W}x${NET_H}.${kind}${tag}`] = timeIt(() => resizeDepth(net, w, h, 'bilinear', false, full));
      result[`resizeDepth.bicubic.from${NET_W}x${NET_H}.${kind}${tag}`] = timeIt(() => resizeDepth(net, w, h, 'bicubic', false, full));
    }
    setWasmKernels(true);
    result[`normalizeDepth${tag}`] = timeIt(() => normalizeDepth(depth.data, 2, 8, unit));
    result[`applyColormap${tag}`] = timeIt(() => applyColormap(unit, lut, rgb));
    result[`equalizeHistogram${tag}`] = timeIt(() => equalizeHistogram(unit, 1024, full));
    result[`composeLayout.side-by-side${tag}`] = timeIt(() => composeLayout('side-by-side', img, depthRgb, sbs));
    // Let the event loop breathe between sizes so a caller's timers and I/O are not starved.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return result;
}
