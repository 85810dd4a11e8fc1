import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { DepthVideoError } from '../errors.js';
import { jpegOrientation, orientationFilter } from '../ffmpeg/exif-orientation.js';
import { ffmpegPath } from '../ffmpeg/binary.js';
import type { DeviceName } from '../inference/device.js';
import { DepthSession, type InferenceResult, type ModelDescription } from '../inference/session.js';
import type { CheckpointChoice } from '../models/converted.js';
import { resolveModel } from '../models/resolve.js';
import { applyColormap, getColormap, toUint16 } from '../render/colormap.js';
import { equalizeHistogram } from '../render/equalize.js';
import { DepthRenderer } from '../render/renderer.js';
import { encodePng16, pngChunk } from '../sinks/recorder/png16.js';
import type { ColormapName, PreprocessSpec, RgbImage } from '../types.js';
import { depthFractions } from './depth-fine.js';
import { previewDepth } from './protocol.js';

/** Default upload limit of the photo page: big enough for a phone's full-size JPEG. */
export const DEFAULT_UPLOAD_LIMIT = 25 * 1024 * 1024;

/** Photos are scaled so their long side is at most this before inference (keeps the aspect). */
export const PHOTO_MAX_SIDE = 2048;

/** Widest depth grid of a photo's 3D view (the page's mesh; the photo itself is its texture). */
export const PHOTO_GRID_MAX_WIDTH = 640;

const deflateAsync = promisify(deflate);

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'tiff';

/** The image format by its first bytes; the name and the browser's type are not trusted. */
export function sniffImage(b: Uint8Array): ImageKind | null {
  const at = (i: number, ...bytes: number[]) => bytes.every((v, k) => b[i + k] === v);
  if (b.length < 12) return null;
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  if (at(0, 0x42, 0x4d)) return 'bmp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  return null;
}

/** The one line for an upload that is not a picture, whoever finds out first. */
export const NOT_AN_IMAGE = 'this file is not an image: use a JPEG, PNG, WebP, GIF, BMP or TIFF photo (checked by content, not by name)';

const RAW_SIZE = /Stream #0:0.*: Video: rawvideo[^\n]*?, (\d+)x(\d+)/;

/** Decodes an image held in memory through ffmpeg's stdin: nothing touches the disk. */
export function decodeImage(bytes: Uint8Array, maxSide = PHOTO_MAX_SIDE): Promise<RgbImage> {
  return new Promise((resolve, reject) => {
    const scale = `scale=w='if(gte(iw,ih),min(${maxSide},iw),-1)':h='if(gte(iw,ih),-1,min(${maxSide},ih))'`;
    // A phone's portrait photo is stored on its side with an EXIF turn: shown upright, as viewers show it.
    const turn = orientationFilter(jpegOrientation(bytes));
    const proc = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'info', '-i', 'pipe:0', '-frames:v', '1', '-vf', turn ? `${turn},${scale}` : scale, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A photo waits a little longer rather than taking cores from a live run.
    try { if (proc.pid) setPriority(proc.pid, 10); } catch { /* not allowed here: it runs at normal priority */ }
    const out: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => { if (err.length < 20000) err += d; });
    proc.stdin.on('error', () => undefined);
    proc.on('error', (e) => reject(new DepthVideoError('FFMPEG', `cannot run ffmpeg to decode the photo: ${e.message}`)));
    proc.on('close', () => {
      const m = RAW_SIZE.exec(err.slice(err.indexOf('Output #0')));
      const data = Buffer.concat(out);
      const w = m ? Number(m[1]) : 0;
      const h = m ? Number(m[2]) : 0;
      if (!w || !h || data.length < w * h * 3) {
        reject(new DepthVideoError('INPUT_NOT_MEDIA', 'the uploaded file looks like an image but could not be decoded: try another file or save it as PNG or JPEG'));
        return;
      }
      resolve({ width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, w * h * 3) });
    });
    proc.stdin.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}


/** 8-bit RGB PNG (the coloured depth download); deflated on libuv's pool, not on the event loop. */
export async function encodePngRgb8(img: RgbImage): Promise<Buffer> {
  const stride = img.width * 3;
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++) {
    raw[y * (stride + 1)] = 0; // filter None: colour maps have few runs Up would help
    raw.set(img.data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // truecolour
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  return Buffer.concat([sig, pngChunk('IHDR', ihdr), pngChunk('IDAT', await deflateAsync(raw, { level: 6 })), pngChunk('IEND', new Uint8Array(0))]);
}

export interface PhotoSettings {
  readonly colormap: ColormapName;
  readonly invert: boolean;
  readonly highContrast: boolean;
}

export interface PhotoResult {
  readonly width: number;
  readonly height: number;
  readonly kind: ImageKind;
  /** Coloured depth, 8-bit RGB PNG. */
  readonly colorPng: Buffer;
  /** Normalised depth (1 = near), 16-bit grayscale PNG. */
  readonly grayPng16: Buffer;
  /** V (0 = far, 255 = near) at most PHOTO_GRID_MAX_WIDTH wide, for the page's 3D view, with the fractions the indices dropped (depth-fine.ts). */
  readonly grid: { readonly width: number; readonly height: number; readonly indices: Uint8Array; readonly fractions: Uint8Array };
  readonly inferenceMs: number;
  /** Where the photo was inferred, e.g. `cpu` or `webgpu (…)`. */
  readonly device: string;
  /** The model's weights are generated, not learned: the page marks what it saves. */
  readonly untrained: boolean;
}

/** The model and device of the run the page belongs to: photos are inferred as its frames are. */
export interface PhotoModelOptions {
  readonly model: string;
  readonly allowDownload: boolean;
  /** The run's --device (default cpu, as for any session). */
  readonly device?: DeviceName;
  /** --family / --max-depth when the model is a checkpoint. */
  readonly checkpoint?: CheckpointChoice;
  /** The run's preprocessing overrides (--size, --mean, …). */
  readonly spec?: Partial<PreprocessSpec>;
  readonly onWarning?: (line: string) => void;
  /** What is being done that takes a while (a checkpoint converted on first use). */
  readonly onNote?: (line: string) => void;
  /**
   * A live run will share its model (share): photos sent while it loads wait
   * for it rather than load a second copy, which would take the run's cores
   * or a second slice of its GPU.
   */
  readonly awaitRun?: boolean;
}

/** A model to run photos on: a session of their own, or a live run's (see share). */
export interface PhotoModel {
  infer(img: RgbImage): Promise<InferenceResult>;
  readonly model: ModelDescription;
}

/**
 * Depth of single uploaded photos, for the page's photo mode. During a live
 * run photos go through the run's own model (share), where they queue
 * between live frames: a second model in another thread would take the cores
 * the live frames need (measured 5 -> 1.5 frames a second while a photo ran).
 * Photos sent while the run's model loads wait for it (awaitRun). With the
 * photo page alone it opens a session of its own on the first photo, on the
 * device and with the model options the run would use.
 */
export class PhotoDepth {
  private session: Promise<DepthSession> | null = null;
  private shared: PhotoModel | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private busy = 0;
  /** With awaitRun: the live run's model, once shared; rejected once the run has ended. */
  private runModel: Promise<PhotoModel> | null = null;
  private settleRun: ((m: PhotoModel | Error) => void) | null = null;

  constructor(private readonly opts: PhotoModelOptions) {
    if (opts.awaitRun) {
      this.runModel = new Promise<PhotoModel>((resolve, reject) => {
        this.settleRun = (m) => (m instanceof Error ? reject(m) : resolve(m));
      });
      this.runModel.catch(() => undefined);
    }
  }

  /** Runs photos on a live run's model from now on (null: the run ended). */
  share(m: PhotoModel | null): void {
    this.shared = m;
    if (!this.opts.awaitRun) return;
    if (m) {
      this.settleRun?.(m);
    } else {
      const ended = new DepthVideoError('USAGE', this.settleRun ? 'the live run ended before its model was loaded' : 'the live run has ended');
      this.settleRun?.(ended);
      this.runModel = Promise.reject(ended);
      this.runModel.catch(() => undefined);
    }
    this.settleRun = null;
  }

  /** Photos accepted and not finished yet. */
  get inProgress(): number {
    return this.busy;
  }

  private open(): Promise<DepthSession> {
    if (this.closed) return Promise.reject(new DepthVideoError('USAGE', 'the preview is shutting down'));
    const o = this.opts;
    // One thread: on the CPU the live run's inference keeps the others.
    this.session ??= resolveModel(o.model, { allowDownload: o.allowDownload, checkpoint: o.checkpoint, onWarning: o.onWarning, onNote: o.onNote })
      .then((r) => DepthSession.open(r.path, { threads: 1, device: o.device, spec: o.spec, onWarning: o.onWarning }));
    this.session.catch(() => { this.session = null; });
    return this.session;
  }

  /** Runs one photo; photos are processed one at a time. */
  process(bytes: Uint8Array, settings: PhotoSettings): Promise<PhotoResult> {
    this.busy++;
    const run = this.chain.then(() => this.run(bytes, settings)).finally(() => { this.busy--; });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(bytes: Uint8Array, settings: PhotoSettings): Promise<PhotoResult> {
    const kind = sniffImage(bytes);
    if (!kind) throw new DepthVideoError('INPUT_NOT_MEDIA', NOT_AN_IMAGE);
    const img = await decodeImage(bytes);
    const m = this.shared ?? (this.runModel ? await this.runModel : await this.open());
    const r = await m.infer(img);
    const spec = m.model.spec;
    // Rendered without equalisation first: the 3D grid needs V itself.
    const renderer = new DepthRenderer({ ...settings, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 1 }, spec.outputInterpolation, spec.outputAlignCorners, false, m.model.output);
    const d = renderer.renderDepth(r.depth, img.width, img.height);
    const g = previewDepth(d.unit, img.width, img.height, false, PHOTO_GRID_MAX_WIDTH);
    // Fractions at every pixel of the grid: the page's mesh of a photo may read any of them.
    const grid = { width: g.width, height: g.height, indices: g.indices, fractions: depthFractions(g.values, g.indices, g.width, g.height, 1, false, new Uint8Array(g.indices.length)) };
    let { unit, depthRgb } = d;
    if (settings.highContrast) {
      unit = equalizeHistogram(unit, 1024, unit);
      depthRgb = { ...depthRgb, data: applyColormap(unit, getColormap(settings.colormap), depthRgb.data, settings.invert) };
    }
    const [colorPng, grayPng16] = await Promise.all([
      encodePngRgb8(depthRgb),
      encodePng16(img.width, img.height, toUint16(unit)),
    ]);
    return { width: img.width, height: img.height, kind, colorPng, grayPng16, grid, inferenceMs: r.inferenceMs, device: m.model.deviceLabel, untrained: m.model.untrained };
  }

  async close(): Promise<void> {
    // Let a photo in progress finish with the session before it is released.
    this.closed = true;
    this.settleRun?.(new DepthVideoError('USAGE', 'the preview is shutting down'));
    this.settleRun = null;
    await this.chain;
    const s = this.session;
    this.session = null;
    if (s) {
      // A session that failed to open has nothing to release.
      try { await (await s).close(); } catch { /* nothing held */ }
    }
  }
}
