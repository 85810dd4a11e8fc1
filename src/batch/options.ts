import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { DepthVideoError } from '../errors.js';
import { DEVICE_NAMES, type DeviceName } from '../inference/device.js';
import { compileSchema, describeSchemaError } from '../pipeline/preset.js';
import type { PipelineInput, PipelineOptions } from '../pipeline/run.js';
import { COLORMAP_NAMES } from '../render/colormap.js';
import { LAYOUT_NAMES } from '../render/layout.js';
import type { RenderSettings } from '../render/renderer.js';
import type { StabilizeMode } from '../stabilize/stabilize.js';
import type { CheckpointChoice } from '../models/converted.js';
import type { PreprocessSpec } from '../types.js';

/**
 * The pipeline options of one file of a batch or one queued job: plain data,
 * so it can be hashed (to know whether an output was made with the same
 * options) and carried through Redis. Batches and workers always process
 * every frame (the sync schedule): pacing a file at its own rate only makes
 * sense for a live view.
 */
export interface FileOptions {
  readonly model: string;
  /** `--family` / `--max-depth` when `model` is a PyTorch checkpoint; absent otherwise (and in jobs queued before it existed). */
  readonly checkpoint?: CheckpointChoice;
  /** Settings for videos. */
  readonly render: RenderSettings;
  /** --stabilize for images (off unless given explicitly). */
  readonly stillStabilize: StabilizeMode;
  readonly spec: Partial<PreprocessSpec>;
  readonly audio: boolean;
  readonly lossless: boolean;
  readonly device: DeviceName;
  readonly threads: number | null;
  readonly maxFrames: number | null;
  /** Extension of video outputs, with the dot (.mp4 unless --ext). */
  readonly videoExt: string;
}

const STABILIZE = ['off', 'normalize', 'align'];
const triple = { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 };

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'render', 'stillStabilize', 'spec', 'audio', 'lossless', 'device', 'threads', 'maxFrames', 'videoExt'],
  properties: {
    model: { type: 'string', minLength: 1 },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      properties: { family: { type: 'string', minLength: 1 }, maxDepth: { type: 'number', exclusiveMinimum: 0 } },
    },
    render: {
      type: 'object',
      additionalProperties: false,
      required: ['colormap', 'invert', 'highContrast', 'layout', 'stabilize', 'stabilizeWindow'],
      properties: {
        colormap: { enum: COLORMAP_NAMES },
        invert: { type: 'boolean' },
        highContrast: { type: 'boolean' },
        layout: { enum: LAYOUT_NAMES },
        stabilize: { enum: STABILIZE },
        stabilizeWindow: { type: 'number', minimum: 0, maximum: 10000 },
      },
    },
    stillStabilize: { enum: STABILIZE },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        width: { type: 'integer', minimum: 14, maximum: 4096 },
        height: { type: 'integer', minimum: 14, maximum: 4096 },
        native: { type: 'boolean' },
        mean: triple,
        std: triple,
        multipleOf: { type: 'integer', minimum: 1, maximum: 1024 },
        keepAspect: { type: 'boolean' },
      },
    },
    audio: { type: 'boolean' },
    lossless: { type: 'boolean' },
    device: { enum: DEVICE_NAMES },
    threads: { type: ['integer', 'null'], minimum: 1, maximum: 256 },
    maxFrames: { type: ['integer', 'null'], minimum: 1 },
    videoExt: { enum: ['.mp4', '.m4v', '.mov', '.mkv', '.webm'] },
  },
} as const;

let validator: ValidateFunction | null = null;

/**
 * Checks options that crossed a process boundary (a queued job) or were built
 * from flags; `where` names their origin in the one-line error.
 */
export function validateFileOptions(data: unknown, where: string): FileOptions {
  validator ??= compileSchema(SCHEMA);
  if (!validator(data)) throw new DepthVideoError('PIPELINE_CONFIG', `${where}: ${describeSchemaError(validator.errors?.[0], 'options')}`);
  const o = data as FileOptions;
  if (o.lossless && o.videoExt !== '.mkv') throw new DepthVideoError('PIPELINE_CONFIG', `${where}: --lossless writes FFV1 in .mkv, so the video extension must be mkv`);
  return o;
}

/** JSON with sorted keys: the same options always give the same text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A short hash of everything that changes an output's pixels. */
export function optionsHash(o: FileOptions): string {
  return createHash('sha256').update(canonical(o)).digest('hex').slice(0, 16);
}

/** The session a set of options needs; files whose keys match share one. */
export function sessionKey(o: FileOptions): string {
  return canonical({ model: o.model, checkpoint: o.checkpoint, device: o.device, threads: o.threads, spec: o.spec });
}

/** The runPipeline options for one file (the caller adds the session, signal and hooks). */
export function pipelineOptionsFor(o: FileOptions, input: string, output: string, still: boolean): PipelineOptions {
  const file: PipelineInput = { kind: 'file', path: input };
  return {
    input: file,
    output,
    model: o.model,
    checkpoint: o.checkpoint,
    sync: true,
    render: still ? { ...o.render, stabilize: o.stillStabilize } : o.render,
    spec: o.spec,
    audio: o.audio,
    lossless: still ? false : o.lossless,
    device: o.device,
    threads: o.threads ?? undefined,
    maxFrames: o.maxFrames ?? undefined,
  };
}
