import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { RgbImage } from '../types.js';
import type { TapTable } from './resize.js';

/**
 * The WebAssembly SIMD kernels (kernels.wat) and the memory
 * plumbing around them. Callers try these first and fall back to the
 * TypeScript loops in resize.ts / preprocess.ts, which stay the reference.
 */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  columns(src: number, width: number, outH: number, dst: number, idx: number, wts: number, offset: number, scale: number, clamp: number): void;
  rowsRgb(src: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number, rowUsed: number, row: number): void;
  rowsF32(src: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number): void;
  range(src: number, n: number, out: number): void;
}

/** Where `npm run build` puts the assembled module (also found when running from src/). */
export const KERNELS_PATH = join(packageRoot, 'dist', 'render', 'kernels.wasm');

let kernels: KernelExports | null | undefined;
let enabled = !process.env.DEPTH_VIDEO_NO_WASM;

/** The kernels of this thread, or null when disabled or not built. */
export function wasmKernels(): KernelExports | null {
  if (!enabled) return null;
  if (kernels === undefined) {
    try {
      kernels = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(KERNELS_PATH)), {}).exports as unknown as KernelExports;
    } catch {
      kernels = null;
    }
  }
  return kernels;
}

/** Turns the kernels off (true: back on) for this thread; tests and the benchmark compare both paths. */
export function setWasmKernels(on: boolean): void {
  enabled = on;
}

interface Taps4 {
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

// Tap tables in the kernels' layout, per table and index multiplier.
const taps4Cache = new WeakMap<TapTable, Map<number, Taps4>>();

/**
 * A tap table as the kernels read it: always 4 taps (2-tap tables padded
 * with zero weights on a repeat of the last index) and each index
 * multiplied by `mul` (row numbers: 1; byte offsets: 16 into a widened RGB row, 4 for floats).
 */
function taps4(t: TapTable, mul: number): Taps4 {
  let byMul = taps4Cache.get(t);
  if (!byMul) taps4Cache.set(t, (byMul = new Map()));
  let r = byMul.get(mul);
  if (r) return r;
  const n = t.index.length / t.taps;
  const index = new Int32Array(n * 4);
  const weight = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) {
      const j = i * t.taps + Math.min(k, t.taps - 1);
      index[i * 4 + k] = t.index[j]! * mul;
      weight[i * 4 + k] = k < t.taps ? t.weight[j]! : 0;
    }
  }
  r = { index, weight };
  byMul.set(mul, r);
  return r;
}

/** Lays out regions in the module's memory (16-byte aligned) and grows it to fit. */
class Layout {
  private top = 0;
  alloc(bytes: number): number {
    const p = (this.top + 15) & ~15;
    this.top = p + bytes;
    return p;
  }
  commit(memory: WebAssembly.Memory): ArrayBuffer {
    const have = memory.buffer.byteLength;
    if (this.top > have) memory.grow(Math.ceil((this.top - have) / 65536));
    return memory.buffer;
  }
}

/** Room for the horizontal and vertical tap tables of one call; `write` copies them in after commit. */
function tapRegions(m: Layout, x4: Taps4, y4: Taps4): { readonly xi: number; readonly xw: number; readonly yi: number; readonly yw: number; write(buf: ArrayBuffer): void } {
  const xi = m.alloc(x4.index.byteLength);
  const xw = m.alloc(x4.weight.byteLength);
  const yi = m.alloc(y4.index.byteLength);
  const yw = m.alloc(y4.weight.byteLength);
  return {
    xi, xw, yi, yw,
    write(buf) {
      put(buf, xi, x4.index);
      put(buf, xw, x4.weight);
      put(buf, yi, y4.index);
      put(buf, yw, y4.weight);
    },
  };
}

function put(buf: ArrayBuffer, at: number, data: Int32Array | Float32Array | Uint8Array): void {
  if (data instanceof Int32Array) new Int32Array(buf, at, data.length).set(data);
  else if (data instanceof Float32Array) new Float32Array(buf, at, data.length).set(data);
  else new Uint8Array(buf, at, data.length).set(data);
}

/**
 * Packed RGB24 -> three resampled float planes, each mapped through
 * v * scale[c] + offset[c] and written to dst at plane planeOf[c].
 * False when the kernels are unavailable.
 */
export function wasmRgbToPlanes(
  img: RgbImage,
  width: number,
  height: number,
  tx: TapTable,
  ty: TapTable,
  rowUsed: Uint8Array,
  scale: readonly number[],
  offset: readonly number[],
  planeOf: readonly number[],
  dst: Float32Array,
): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const x4 = taps4(tx, 16);
  const y4 = taps4(ty, 1);
  const bytes = img.width * img.height * 3;
  const tmpPlane = img.height * width * 4;
  const plane = width * height;
  const m = new Layout();
  // One spare byte past the pixels: the kernel reads 4 bytes per RGB pixel.
  const src = m.alloc(bytes + 16);
  const tmp = m.alloc(3 * tmpPlane);
  const out = m.alloc(plane * 4);
  const taps = tapRegions(m, x4, y4);
  const used = m.alloc(img.height);
  const row = m.alloc(img.width * 16);
  const buf = m.commit(k.memory);
  put(buf, src, img.data.length === bytes ? img.data : img.data.subarray(0, bytes));
  taps.write(buf);
  put(buf, used, rowUsed);
  k.rowsRgb(src, img.width, img.height, tmp, width, taps.xi, taps.xw, used, row);
  const result = new Float32Array(buf, out, plane);
  for (let c = 0; c < 3; c++) {
    // v * scale + offset as (v + offset / scale) * scale: the kernel adds first.
    k.columns(tmp + c * tmpPlane, width, height, out, taps.yi, taps.yw, offset[c]! / scale[c]!, scale[c]!, 0);
    dst.set(result, planeOf[c]! * plane);
  }
  return true;
}

/**
 * One float plane resampled to width x height into dst; with `normalize`,
 * each result also becomes clamp((v - lo) / (hi - lo), 0, 1) (NaN -> 0) in
 * the same pass. False when the kernels are unavailable.
 */
export function wasmResizePlane(
  srcData: Float32Array,
  inW: number,
  inH: number,
  width: number,
  height: number,
  tx: TapTable,
  ty: TapTable,
  dst: Float32Array,
  normalize?: { readonly lo: number; readonly hi: number },
): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const x4 = taps4(tx, 4);
  const y4 = taps4(ty, 1);
  const m = new Layout();
  const src = m.alloc(inW * inH * 4);
  const tmp = m.alloc(inH * width * 4);
  const out = m.alloc(width * height * 4);
  const taps = tapRegions(m, x4, y4);
  const buf = m.commit(k.memory);
  put(buf, src, srcData.length === inW * inH ? srcData : srcData.subarray(0, inW * inH));
  taps.write(buf);
  k.rowsF32(src, inW, inH, tmp, width, taps.xi, taps.xw);
  if (normalize) k.columns(tmp, width, height, out, taps.yi, taps.yw, -normalize.lo, 1 / (normalize.hi - normalize.lo), 1);
  else k.columns(tmp, width, height, out, taps.yi, taps.yw, 0, 1, 0);
  dst.set(new Float32Array(buf, out, width * height));
  return true;
}

/** Smallest and largest value, NaN skipped, infinities included; null when the kernels are unavailable. */
export function wasmRange(data: Float32Array): { min: number; max: number } | null {
  const k = wasmKernels();
  if (!k) return null;
  const m = new Layout();
  const src = m.alloc(data.byteLength);
  const out = m.alloc(8);
  const buf = m.commit(k.memory);
  put(buf, src, data);
  k.range(src, data.length, out);
  const r = new Float32Array(buf, out, 2);
  return { min: r[0]!, max: r[1]! };
}
