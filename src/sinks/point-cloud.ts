import { basename, dirname, join } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { depthUnit, type FrameSink, type OutputFrame, type PipelineContext } from '../pipeline/types.js';
import { unprojectGrid, unprojectMetres, type CameraModel } from '../render/unproject.js';
import { frameAsRgb } from '../render/yuv-to-rgb.js';
import { writeFileAtomic } from './atomic-file.js';
import { untrainedNote } from './untrained-note.js';

/**
 * Coloured point clouds as binary little-endian PLY: one vertex per pixel,
 * row by row (so the grid can be recovered), x y z float32 then red green
 * blue uchar, 15 bytes a vertex. Every pixel is valid: V is clamped to 0..1,
 * so every depth lies in [dMin, dMax].
 */

const FRAME_PATTERN = /%0?\d*d/;

/** True for outputs with one file per frame, such as frames/%05d.ply. */
export function isFramePattern(path: string): boolean {
  return FRAME_PATTERN.test(basename(path));
}

/** The file of frame `index` of a pattern (printf %d, %05d). */
export function framePath(pattern: string, index: number): string {
  const name = basename(pattern).replace(FRAME_PATTERN, (m) => {
    const width = Number(m.slice(1, -1) || '0');
    return String(index).padStart(width, '0');
  });
  return join(dirname(pattern), name);
}

/** A regular expression matching the files a pattern makes (to find ones already there). */
export function framePatternRegExp(pattern: string): RegExp {
  const [before, after] = basename(pattern).split(FRAME_PATTERN) as [string, string];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(before)}\\d+${esc(after)}$`);
}

export const PLY_BYTES_PER_VERTEX = 15;

/** The ASCII header; comments must be single lines. */
export function plyHeader(vertices: number, comments: readonly string[]): string {
  return [
    'ply',
    'format binary_little_endian 1.0',
    ...comments.map((c) => `comment ${c.replace(/[\r\n]+/g, ' ')}`),
    `element vertex ${vertices}`,
    'property float x',
    'property float y',
    'property float z',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    'end_header',
    '',
  ].join('\n');
}

/**
 * A whole PLY file from packed positions (x y z) and packed RGB colours.
 * With `reuse` large enough (the previous frame's file, once written) the
 * file is written into it: a 1080p cloud is 31 MB, every frame.
 */
export function encodePly(positions: Float32Array, rgb: Uint8Array, vertices: number, comments: readonly string[], reuse?: Buffer): Buffer {
  if (positions.length < vertices * 3 || rgb.length < vertices * 3) throw new RangeError(`encodePly: ${vertices} vertices need ${vertices * 3} positions and colours`);
  const header = Buffer.from(plyHeader(vertices, comments), 'ascii');
  const size = header.length + vertices * PLY_BYTES_PER_VERTEX;
  const out = reuse && reuse.length >= size ? reuse.subarray(0, size) : Buffer.allocUnsafe(size);
  header.copy(out, 0);
  for (let i = 0, o = header.length; i < vertices; i++, o += PLY_BYTES_PER_VERTEX) {
    out.writeFloatLE(positions[i * 3]!, o);
    out.writeFloatLE(positions[i * 3 + 1]!, o + 4);
    out.writeFloatLE(positions[i * 3 + 2]!, o + 8);
    out[o + 12] = rgb[i * 3]!;
    out[o + 13] = rgb[i * 3 + 1]!;
    out[o + 14] = rgb[i * 3 + 2]!;
  }
  return out;
}

/** Header lines that say where a cloud came from and how to read it. */
export function plyComments(m: CameraModel, width: number, height: number, source: string, model: { label: string; untrained: boolean }, metric = false): string[] {
  return [
    `depth-video point cloud of ${source}`,
    model.untrained ? untrainedNote(model.label) : `model ${model.label}`,
    metric
      ? 'depth = the model\'s metric depth in metres (--depth-range does not apply)'
      : `depth = 1 / (V * (1/dmin - 1/dmax) + 1/dmax), V = normalised inverse depth; dmin ${m.dMin} dmax ${m.dMax}`,
    `pinhole camera at the origin, horizontal fov ${m.fovDeg} deg, x right, y up, looking down -z`,
    `one vertex per pixel, row by row: ${width}x${height}`,
  ];
}

/**
 * Positions of every pixel of a normalised depth map (V, 0..1, near = 1),
 * or, for a metric model, of its distances in `metres` (then V and the
 * camera's dMin/dMax are not used). `positions` is reused when it is large enough.
 */
export function pointCloudPositions(
  unit: Float32Array, width: number, height: number, m: CameraModel, positions?: Float32Array, metres?: ArrayLike<number> | null,
): Float32Array {
  const out = positions && positions.length >= width * height * 3 ? positions : new Float32Array(width * height * 3);
  return metres ? unprojectMetres(metres, width, height, m.fovDeg, out) : unprojectGrid(unit, width, height, width, height, 1, m, out);
}

export interface PointCloudSinkOptions {
  /** One file (a still input) or a pattern such as frames/%05d.ply (one per inferred frame, named by frame index). */
  readonly output: string;
  readonly camera: CameraModel;
  /** The model gives metric depth (metres): points are placed at its distances, not by --depth-range. */
  readonly metric?: boolean;
}

/**
 * Writes a point cloud of every inferred frame: the frame's own pixels as
 * colours and its normalised depth (as rendered, stabilised for video) as V.
 * Each file goes through a temp name, so an interrupted run leaves only
 * whole files.
 */
export function pointCloudSink(opts: PointCloudSinkOptions): FrameSink & { readonly filesWritten: number } {
  const pattern = isFramePattern(opts.output);
  let ctx: PipelineContext | null = null;
  let positions: Float32Array | undefined;
  let file: Buffer | undefined;
  // The input's colours as RGB (frames decoded in yuv420p are converted into it).
  const rgb = { buffer: new Uint8Array(0) };
  let files = 0;
  return {
    name: 'point-cloud',
    // Positions come from the unit depth and colours from the input frame.
    picture: 'none',
    wantsInputPixels: true,
    // Metric distances are the prediction itself, before any normalising.
    wantsRaw: opts.metric ?? false,
    get filesWritten() { return files; },
    start(c: PipelineContext) { ctx = c; },
    async write(out: OutputFrame) {
      if (!out.inferred) return;
      const { width, height } = out.frame;
      const raw = opts.metric ? out.raw : null;
      if (opts.metric && !raw) throw new DepthVideoError('PIPELINE_CONFIG', 'internal: a metric point cloud got no raw depth');
      positions = pointCloudPositions(depthUnit(out.depth), width, height, opts.camera, positions, raw);
      const comments = plyComments(opts.camera, width, height, ctx?.inputPath ?? ctx?.source.label ?? 'input', ctx?.model ?? { label: '?', untrained: false }, raw !== null);
      // The frame's pixels are only valid during write(): encode before awaiting.
      file = encodePly(positions, frameAsRgb(out.frame, rgb).data, width * height, comments, file);
      await writeFileAtomic(pattern ? framePath(opts.output, out.frame.index) : opts.output, file);
      files++;
    },
    finish() { positions = undefined; file = undefined; rgb.buffer = new Uint8Array(0); },
  };
}
