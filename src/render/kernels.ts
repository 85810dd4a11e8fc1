import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { FrameImage, RgbImage } from '../types.js';
import type { TapTable } from './resize.js';
import type { YuvTable } from './yuv.js';
import { frameBytes, yuv420pSize, yuvCoefficients, yuvPlanes } from './yuv-to-rgb.js';

/**
 * The WebAssembly SIMD kernels (kernels.wat) and the memory
 * plumbing around them. Callers try these first and fall back to the
 * TypeScript loops in resize.ts / preprocess.ts, which stay the reference.
 */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  columns(src: number, width: number, outH: number, dst: number, idx: number, wts: number, offset: number, scale: number, clamp: number): void;
  columns2(src: number, width: number, outH: number, dst: number, idx: number, wts: number, offset: number, scale: number, clamp: number): void;
  /** `two`: the horizontal table is a 2-tap one (its padding taps are skipped). */
  rowsRgb(src: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number, rowUsed: number, row: number, two: number): void;
  rowsYuv(y: number, u: number, v: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number, rowUsed: number, row: number, coef: number, two: number): void;
  rowsYuvTaps(y: number, u: number, v: number, inW: number, rows: number, dst: number, outW: number, groups: number, rowUsed: number, coef: number, four: number, pairs: number): void;
  rowsF32(src: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number): void;
  rowsF32x2(src: number, inW: number, rows: number, dst: number, outW: number, idx: number, wts: number): void;
  rowsF32Up(src: number, inW: number, rows: number, dst: number, outW: number, groups: number, idx: number, wts: number): void;
  rowsF32Up4(src: number, inW: number, rows: number, dst: number, outW: number, groups: number, idx: number, wts: number): void;
  range(src: number, n: number, out: number): void;
  indices(src: number, n: number, dst: number, invert: number): void;
  yuvRowsFromPairs(idx: number, n: number, tabYY: number, tabUV: number, dstY: number, cuv: number): void;
  yuvRowsFromUnit(src: number, n: number, invert: number, tabYY: number, tabUV: number, dstY: number, cuv: number): void;
  yuvRowsFromRgb(rgb: number, n: number, coef: number, dstY: number, cuv: number): void;
  chromaColumns(cuv: number, cw: number, h: number, taps: number, dstU: number, dstV: number): void;
  flickerPair(prevUnit: number, prevRgb: number, unit: number, rgb: number, n: number, out: number): void;
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

/** The vertical pass for a table: 2-tap tables skip their padding, half the arithmetic of a pass bound by it. */
function columnsFor(k: KernelExports, t: TapTable): KernelExports['columns'] {
  return t.taps === 2 ? k.columns2 : k.columns;
}

const groupsCache = new WeakMap<TapTable, Uint8Array | null>();

/**
 * A tap table as rowsF32Up (2 taps) or rowsF32Up4 (4 taps) reads it, or null
 * when some four neighbouring outputs reach beyond the samples those load:
 * four for 2 taps, eight for 4 (downscaling, or upscaling by less than about
 * 1.5). Per four outputs, 2 taps: 80 bytes: the byte swizzle that picks tap
 * 0's sample of each output from the four samples loaded at the group's
 * first index, the same for tap 1, tap 0's and tap 1's weights, and the byte
 * offset of that first index. 4 taps: 208 bytes: per tap k, at 48k, the
 * swizzles from the first and from the second four samples (0x80, which
 * gives 0, in the lanes the other fills) and the weights; at 192 the offset.
 */
export function upsampleGroups(t: TapTable): Uint8Array | null {
  const known = groupsCache.get(t);
  if (known !== undefined) return known;
  const n = t.index.length / t.taps;
  const groups = n >> 2;
  const four = t.taps === 4;
  const size = four ? 208 : 80;
  const bytes = new Uint8Array(groups * size);
  const words = new DataView(bytes.buffer);
  let fits = true;
  for (let g = 0; g < groups && fits; g++) {
    const at = g * size;
    let base = Infinity;
    for (let j = g * 4 * t.taps; j < (g + 1) * 4 * t.taps; j++) base = Math.min(base, t.index[j]!);
    for (let l = 0; l < 4 && fits; l++) {
      for (let k = 0; k < t.taps; k++) {
        const off = t.index[(g * 4 + l) * t.taps + k]! - base;
        if (off > (four ? 7 : 3)) { fits = false; break; }
        const weightAt = four ? at + 48 * k + 32 : at + 32 + k * 16;
        for (let b = 0; b < 4; b++) {
          if (four) {
            // Lane l of tap k from the first load (off < 4) or the second.
            bytes[at + 48 * k + l * 4 + b] = off < 4 ? off * 4 + b : 0x80;
            bytes[at + 48 * k + 16 + l * 4 + b] = off < 4 ? 0x80 : (off - 4) * 4 + b;
          } else {
            bytes[at + k * 16 + l * 4 + b] = off * 4 + b;
          }
        }
        words.setFloat32(weightAt + l * 4, t.weight[(g * 4 + l) * t.taps + k]!, true);
      }
    }
    words.setInt32(at + (four ? 192 : 64), base * 4, true);
  }
  const r = fits ? bytes : null;
  groupsCache.set(t, r);
  return r;
}

/** A table in rowsYuvTaps' layout: groups of four outputs, or of two (`pairs`) where four reach too far. */
export interface YuvTapGroups {
  readonly bytes: Uint8Array;
  readonly pairs: boolean;
}

const yuvGroupsCache = new WeakMap<TapTable, YuvTapGroups | null>();

/**
 * A horizontal tap table as rowsYuvTaps reads it, or null when even two
 * neighbouring outputs reach beyond 16 neighbouring pixels. Groups are of
 * four outputs when their taps lie within 16 pixels (downscaling by less
 * than about 3.5 with bicubic taps or 4.5 with bilinear: 1080p and 720p to
 * 672 or 924 wide), else of two (up to about 11 or 13: 4K). Per group, 112
 * bytes: the Y byte swizzle (byte 4k + l for four outputs, 2k + l for two:
 * tap k of output l, as an offset from the group's first pixel; 0x80, which
 * gives 0, past the taps), the same for the chroma (offset / 2), the
 * weights as f32 in the same order from byte 32, and at 96 the group's first
 * pixel, made even so that it starts a chroma sample. A last, partial group
 * repeats its last output in the lanes it does not store.
 */
export function yuvTapGroups(t: TapTable): YuvTapGroups | null {
  const known = yuvGroupsCache.get(t);
  if (known !== undefined) return known;
  const r = yuvGroupsOf(t, 4) ?? yuvGroupsOf(t, 2);
  yuvGroupsCache.set(t, r);
  return r;
}

function yuvGroupsOf(t: TapTable, outs: 2 | 4): YuvTapGroups | null {
  const n = t.index.length / t.taps;
  const groups = Math.ceil(n / outs);
  const bytes = new Uint8Array(groups * 112).fill(0x80);
  const words = new DataView(bytes.buffer);
  for (let g = 0; g < groups; g++) {
    const at = g * 112;
    bytes.fill(0, at + 32, at + 112);
    const out = (l: number) => Math.min(g * outs + l, n - 1);
    let first = Infinity;
    for (let l = 0; l < outs; l++) for (let k = 0; k < t.taps; k++) first = Math.min(first, t.index[out(l) * t.taps + k]!);
    const base = first - (first % 2);
    for (let l = 0; l < outs; l++) {
      for (let k = 0; k < t.taps; k++) {
        const off = t.index[out(l) * t.taps + k]! - base;
        if (off > 15) return null;
        const lane = k * outs + l;
        bytes[at + lane] = off;
        bytes[at + 16 + lane] = off >> 1;
        words.setFloat32(at + 32 + lane * 4, t.weight[out(l) * t.taps + k]!, true);
      }
    }
    words.setInt32(at + 96, base, true);
  }
  return { bytes, pairs: outs === 2 };
}

type Table = Int32Array | Float32Array | Uint16Array | Uint8Array;

/**
 * Tables that stay the same from frame to frame (tap tables, swizzle
 * groups, colour pair tables, chroma taps) are copied into this thread's
 * kernel memory once, below every call's own regions, and found again by
 * the table object (their makers cache them). Past PIN_LIMIT bytes they are
 * all let go and copied again as needed (a run that keeps changing sizes or
 * colour maps).
 */
const PIN_LIMIT = 16 << 20;
let pinGeneration = 0;
let pinTop = 0;
const pinned = new WeakMap<Table, { readonly generation: number; readonly at: number }>();

/** Lays out one call's regions in the module's memory (16-byte aligned), above the pinned tables, and grows it to fit. */
class Layout {
  private top: number;
  private readonly copies: [number, Table][] = [];
  constructor() {
    if (pinTop > PIN_LIMIT) {
      pinGeneration++;
      pinTop = 0;
    }
    this.top = pinTop;
  }
  /** Where a constant table lies (copied in at commit if it is not there yet). Before any alloc. */
  pin(data: Table): number {
    const p = pinned.get(data);
    if (p?.generation === pinGeneration) return p.at;
    if (this.top !== pinTop) throw new Error('internal: Layout.pin after alloc');
    const at = (pinTop + 15) & ~15;
    pinTop = this.top = at + data.byteLength;
    this.copies.push([at, data]);
    return at;
  }
  alloc(bytes: number): number {
    const p = (this.top + 15) & ~15;
    this.top = p + bytes;
    return p;
  }
  commit(memory: WebAssembly.Memory): ArrayBuffer {
    const have = memory.buffer.byteLength;
    if (this.top > have) memory.grow(Math.ceil((this.top - have) / 65536));
    const buf = memory.buffer;
    for (const [at, data] of this.copies) {
      put(buf, at, data);
      pinned.set(data, { generation: pinGeneration, at });
    }
    return buf;
  }
}

/** Where the horizontal and vertical tap tables of one call lie (pinned). */
function tapRegions(m: Layout, x4: Taps4, y4: Taps4): { readonly xi: number; readonly xw: number; readonly yi: number; readonly yw: number } {
  return { xi: m.pin(x4.index), xw: m.pin(x4.weight), yi: m.pin(y4.index), yw: m.pin(y4.weight) };
}

function put(buf: ArrayBuffer, at: number, data: Table): void {
  if (data instanceof Int32Array) new Int32Array(buf, at, data.length).set(data);
  else if (data instanceof Uint16Array) new Uint16Array(buf, at, data.length).set(data);
  else if (data instanceof Float32Array) new Float32Array(buf, at, data.length).set(data);
  else new Uint8Array(buf, at, data.length).set(data);
}

/**
 * A frame (packed RGB24, or yuv420p converted to RGB as ffmpeg would: see
 * yuv-to-rgb.ts) -> three resampled float planes, each mapped through
 * v * scale[c] + offset[c] and written to dst at plane planeOf[c].
 * False when the kernels are unavailable.
 */
export function wasmFrameToPlanes(
  img: FrameImage,
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
  const yuv = img.format === 'yuv420p';
  const bytes = frameBytes(img.format ?? 'rgb24', img.width, img.height);
  const tmpPlane = img.height * width * 4;
  const plane = width * height;
  const groups = yuv ? yuvTapGroups(tx) : null;
  const m = new Layout();
  const taps = tapRegions(m, x4, y4);
  const groupsAt = groups ? m.pin(groups.bytes) : -1;
  // Spare bytes past the pixels: the kernels read 4 bytes per RGB pixel, and whole vectors of yuv420p rows.
  const src = m.alloc(bytes + 16);
  const coef = m.alloc(24);
  const tmp = m.alloc(3 * tmpPlane);
  const out = m.alloc(plane * 4);
  const used = m.alloc(img.height);
  // The converted row of the two-step path (rowsYuv, rowsRgb); rowsYuvTaps converts no row.
  const row = groups ? -1 : m.alloc((img.width + 4) * 16);
  const buf = m.commit(k.memory);
  put(buf, src, img.data.length === bytes ? img.data : img.data.subarray(0, bytes));
  put(buf, used, rowUsed);
  if (yuv) {
    const c = yuvCoefficients(img.colour);
    put(buf, coef, Int32Array.of(c.y, c.yOffset, c.vr, c.ub, c.ug, c.vg));
    const p = yuvPlanes(img.width, img.height);
    if (groups) {
      k.rowsYuvTaps(src, src + p.u, src + p.v, img.width, img.height, tmp, width, groupsAt, used, coef, tx.taps === 4 ? 1 : 0, groups.pairs ? 1 : 0);
    } else k.rowsYuv(src, src + p.u, src + p.v, img.width, img.height, tmp, width, taps.xi, taps.xw, used, row, coef, tx.taps === 2 ? 1 : 0);
  } else {
    k.rowsRgb(src, img.width, img.height, tmp, width, taps.xi, taps.xw, used, row, tx.taps === 2 ? 1 : 0);
  }
  const columns = columnsFor(k, ty);
  const result = new Float32Array(buf, out, plane);
  for (let c = 0; c < 3; c++) {
    // v * scale + offset as (v + offset / scale) * scale: the kernel adds first.
    columns(tmp + c * tmpPlane, width, height, out, taps.yi, taps.yw, offset[c]! / scale[c]!, scale[c]!, 0);
    dst.set(result, planeOf[c]! * plane);
  }
  return true;
}

/** Where a float plane and its resampling passes live in the module's memory. */
interface PlaneRegions {
  readonly src: number;
  readonly tmp: number;
  readonly out: number;
  readonly taps: ReturnType<typeof tapRegions>;
  readonly tx: TapTable;
  readonly ty: TapTable;
  /** Where upsampleGroups(tx) lies; -1 where there is none. */
  readonly groupsAt: number;
}

function planeRegions(m: Layout, inW: number, inH: number, width: number, height: number, tx: TapTable, ty: TapTable): PlaneRegions {
  const groups = upsampleGroups(tx);
  const taps = tapRegions(m, taps4(tx, 4), taps4(ty, 1));
  const groupsAt = groups ? m.pin(groups) : -1;
  // rowsF32Up4 reads up to 28 bytes past the last row.
  return { src: m.alloc(inW * inH * 4 + 32), tmp: m.alloc(inH * width * 4), out: m.alloc(width * height * 4), taps, tx, ty, groupsAt };
}

/** Copies the plane in and runs both passes; with `normalize`, the vertical pass also normalises and clamps. */
function resamplePlane(
  k: KernelExports,
  buf: ArrayBuffer,
  r: PlaneRegions,
  srcData: Float32Array,
  inW: number,
  inH: number,
  width: number,
  height: number,
  normalize?: { readonly lo: number; readonly hi: number },
): void {
  put(buf, r.src, srcData.length === inW * inH ? srcData : srcData.subarray(0, inW * inH));
  if (r.groupsAt >= 0) {
    (r.tx.taps === 4 ? k.rowsF32Up4 : k.rowsF32Up)(r.src, inW, inH, r.tmp, width, r.groupsAt, r.taps.xi, r.taps.xw);
  } else {
    (r.tx.taps === 2 ? k.rowsF32x2 : k.rowsF32)(r.src, inW, inH, r.tmp, width, r.taps.xi, r.taps.xw);
  }
  const columns = columnsFor(k, r.ty);
  if (normalize) columns(r.tmp, width, height, r.out, r.taps.yi, r.taps.yw, -normalize.lo, 1 / (normalize.hi - normalize.lo), 1);
  else columns(r.tmp, width, height, r.out, r.taps.yi, r.taps.yw, 0, 1, 0);
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
  const m = new Layout();
  const r = planeRegions(m, inW, inH, width, height, tx, ty);
  const buf = m.commit(k.memory);
  resamplePlane(k, buf, r, srcData, inW, inH, width, height, normalize);
  dst.set(new Float32Array(buf, r.out, width * height));
  return true;
}

/** What the yuv420p kernels need from yuv.ts: the chroma taps, and the matrix or a colour table's entries. */
export interface YuvKernelTables {
  readonly taps: Int32Array;
  /** RY GY BY RU GU BU RV GV BV in Q15 (RGB input). */
  readonly coef: Int32Array;
}

/**
 * The vertical chroma pass of both planes, from the first pass's chroma
 * pairs already in the module's memory at `cuv` (one u32 a pixel pair:
 * U | V << 16); `taps` is where pinChromaTaps put the taps.
 */
function chromaPlanes(k: KernelExports, cuv: number, taps: number, dst: number, w: number, h: number): void {
  const cw = w >> 1;
  k.chromaColumns(cuv, cw, h, taps, dst + w * h, dst + w * h + cw * (h >> 1));
}

/** yuv.ts's rgbToYuv420p in the kernels (even size); false when they are unavailable. */
export function wasmRgbToYuv420p(img: RgbImage, tables: YuvKernelTables, out: Uint8Array): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const { width: w, height: h } = img;
  const n = w * h;
  const bytes = yuv420pSize(w, h);
  const m = new Layout();
  const taps = pinChromaTaps(m, tables.taps);
  const coef = m.pin(tables.coef);
  const src = m.alloc(n * 3);
  const cuv = m.alloc(n * 2);
  const dst = m.alloc(bytes);
  const buf = m.commit(k.memory);
  put(buf, src, img.data.length === n * 3 ? img.data : img.data.subarray(0, n * 3));
  k.yuvRowsFromRgb(src, n, coef, dst, cuv);
  chromaPlanes(k, cuv, taps, dst, w, h);
  out.set(new Uint8Array(buf, dst, bytes));
  return true;
}

/**
 * yuv.ts's colormapToYuv420p in the kernels: indices of `unit` (width x
 * height), padded to outWidth x outHeight by repeating the last column and
 * row, then Y by lookup and chroma from the table's entries. False when
 * the kernels are unavailable.
 */
export function wasmColormapToYuv420p(
  unit: Float32Array,
  width: number,
  height: number,
  table: YuvTable,
  tables: YuvKernelTables,
  invert: boolean,
  outWidth: number,
  outHeight: number,
  out: Uint8Array,
): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const m = new Layout();
  const pins = pinYuvTables(m, table, tables);
  const src = m.alloc(width * height * 4);
  const regions = yuvRegions(m, outWidth, outHeight, pins);
  const buf = m.commit(k.memory);
  put(buf, src, unit.length === width * height ? unit : unit.subarray(0, width * height));
  indicesToYuv(k, buf, src, width, height, invert, outWidth, outHeight, regions, out);
  return true;
}

interface YuvRegions {
  readonly idx: number;
  readonly tabYY: number;
  readonly tabUV: number;
  readonly taps: number;
  /** The chroma of each pixel pair, U | V << 16 (n / 2 u32). */
  readonly cuv: number;
  readonly dst: number;
  readonly bytes: number;
}

/**
 * The symmetric 8-tap chroma table, pinned: the kernel sums rows k and
 * 7 - k before one product, so it reads only the first four taps.
 */
function pinChromaTaps(m: Layout, t: Int32Array): number {
  if (t.length !== 8 || t.some((v, i) => v !== t[7 - i])) throw new RangeError('the chroma taps must be 8 and symmetric');
  return m.pin(t);
}

/** The colour table's pair tables and the chroma taps, pinned (before the call's regions). */
function pinYuvTables(m: Layout, table: YuvTable, tables: YuvKernelTables): Pick<YuvRegions, 'tabYY' | 'tabUV' | 'taps'> {
  return { tabYY: m.pin(table.pairY), tabUV: m.pin(table.pairUV), taps: pinChromaTaps(m, tables.taps) };
}

function yuvRegions(m: Layout, w: number, h: number, pins: Pick<YuvRegions, 'tabYY' | 'tabUV' | 'taps'>): YuvRegions {
  const n = w * h;
  const bytes = yuv420pSize(w, h);
  return { ...pins, idx: m.alloc(n), cuv: m.alloc(n * 2), dst: m.alloc(bytes), bytes };
}

/** Float unit picture at `src` in the module's memory -> padded indices -> yuv420p copied to `out`. */
function indicesToYuv(
  k: KernelExports,
  buf: ArrayBuffer,
  src: number,
  width: number,
  height: number,
  invert: boolean,
  outWidth: number,
  outHeight: number,
  r: YuvRegions,
  out: Uint8Array,
): void {
  const inv = invert ? 1 : 0;
  if (outWidth === width && outHeight === height) {
    // No padding: the indices go straight into the table lookups, but for
    // the last n % 16, which take the two passes.
    const n = width * height;
    const whole = n - (n % 16);
    k.yuvRowsFromUnit(src, whole, inv, r.tabYY, r.tabUV, r.dst, r.cuv);
    if (whole < n) {
      k.indices(src + whole * 4, n - whole, r.idx + whole, inv);
      k.yuvRowsFromPairs(r.idx + whole, n - whole, r.tabYY, r.tabUV, r.dst + whole, r.cuv + whole * 2);
    }
    chromaPlanes(k, r.cuv, r.taps, r.dst, outWidth, outHeight);
    out.set(new Uint8Array(buf, r.dst, r.bytes));
    return;
  }
  if (outWidth === width) {
    k.indices(src, width * height, r.idx, inv);
  } else {
    const bytes = new Uint8Array(buf);
    for (let y = 0; y < height; y++) {
      const d = r.idx + y * outWidth;
      k.indices(src + y * width * 4, width, d, inv);
      bytes[d + width] = bytes[d + width - 1]!;
    }
  }
  if (outHeight > height) new Uint8Array(buf).copyWithin(r.idx + height * outWidth, r.idx + (height - 1) * outWidth, r.idx + height * outWidth);
  k.yuvRowsFromPairs(r.idx, outWidth * outHeight, r.tabYY, r.tabUV, r.dst, r.cuv);
  chromaPlanes(k, r.cuv, r.taps, r.dst, outWidth, outHeight);
  out.set(new Uint8Array(buf, r.dst, r.bytes));
}

/**
 * The renderer's whole per-pixel path for a yuv420p output in one visit to
 * the module: upsample the prediction and normalise it by lo/hi (as
 * wasmResizePlane), colour it straight into yuv420p (as
 * wasmColormapToYuv420p) while it is in the module's memory, and copy that
 * unit picture out to `unitOut`. Returns the unit picture: `unitOut`, or
 * with none the module's own (valid until the next kernel call); null when
 * the kernels are unavailable.
 */
export function wasmRenderYuv420p(
  depth: Float32Array,
  inW: number,
  inH: number,
  width: number,
  height: number,
  tx: TapTable,
  ty: TapTable,
  lo: number,
  hi: number,
  unitOut: Float32Array | null,
  table: YuvTable,
  tables: YuvKernelTables,
  invert: boolean,
  outWidth: number,
  outHeight: number,
  out: Uint8Array,
): Float32Array | null {
  const k = wasmKernels();
  if (!k) return null;
  const m = new Layout();
  const pins = pinYuvTables(m, table, tables);
  const plane = planeRegions(m, inW, inH, width, height, tx, ty);
  const regions = yuvRegions(m, outWidth, outHeight, pins);
  const buf = m.commit(k.memory);
  resamplePlane(k, buf, plane, depth, inW, inH, width, height, { lo, hi });
  indicesToYuv(k, buf, plane.out, width, height, invert, outWidth, outHeight, regions, out);
  const unit = new Float32Array(buf, plane.out, width * height);
  if (!unitOut) return unit;
  unitOut.set(unit);
  return unitOut;
}

/** colormap.ts's colormapIndices in the kernels (the same indices, bit for bit); false when they are unavailable. */
export function wasmColormapIndices(unit: Float32Array, invert: boolean, out: Uint8Array): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const m = new Layout();
  const src = m.alloc(unit.byteLength);
  const dst = m.alloc(unit.length);
  const buf = m.commit(k.memory);
  put(buf, src, unit);
  k.indices(src, unit.length, dst, invert ? 1 : 0);
  out.set(new Uint8Array(buf, dst, unit.length));
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

/**
 * flicker-meter.ts's flickerPair in the kernels (samples as R, G, B, 0);
 * null when they are unavailable.
 */
export function wasmFlickerPair(prevUnit: Float32Array, prevRgb: Uint8Array, unit: Float32Array, rgb: Uint8Array, n: number): { still: number; sum: number; count: number } | null {
  const k = wasmKernels();
  if (!k) return null;
  const m = new Layout();
  const pu = m.alloc(n * 4);
  const pr = m.alloc(n * 4);
  const cu = m.alloc(n * 4);
  const cr = m.alloc(n * 4);
  const out = m.alloc(16);
  const buf = m.commit(k.memory);
  put(buf, pu, prevUnit.subarray(0, n));
  put(buf, pr, prevRgb.subarray(0, n * 4));
  put(buf, cu, unit.subarray(0, n));
  put(buf, cr, rgb.subarray(0, n * 4));
  k.flickerPair(pu, pr, cu, cr, n, out);
  const counts = new Int32Array(buf, out, 2);
  return { still: counts[0]!, count: counts[1]!, sum: new Float64Array(buf, out + 8, 1)[0]! };
}
