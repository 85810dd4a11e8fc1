import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { optionsHash, validateFileOptions, type FileOptions } from '../batch/options.js';

/** What a queued job carries: one input, its output, and the options to render it with. */
export interface JobData {
  /** Absolute; every worker must see the same path (a shared mount). */
  readonly input: string;
  readonly output: string;
  readonly still: boolean;
  readonly options: FileOptions;
  /** The output may replace an existing file. */
  readonly overwrite: boolean;
}

/** What a finished job returns (kept by BullMQ, shown by `queue status --json`). */
export interface JobResult {
  readonly output: string;
  readonly frames: number;
  readonly wallMs: number;
  readonly damage: string | null;
  readonly worker: string;
  readonly model: string;
  /** Made by a generated test model: not real depth. */
  readonly untrained: boolean;
}

/** Progress a worker reports while rendering. */
export interface JobProgress {
  readonly frames: number;
  readonly total: number | null;
}

/**
 * The same input, output and options always give the same id, so BullMQ
 * keeps one job however often they are enqueued. (Custom ids must not be
 * plain integers, hence the prefix.)
 */
export function jobIdFor(input: string, output: string, options: FileOptions): string {
  return 'dv-' + createHash('sha256').update(`${input}\0${output}\0${optionsHash(options)}`).digest('hex').slice(0, 32);
}

/** Checks a job's data on either end of the queue: whoever enqueued it may run another version. */
export function validateJobData(data: unknown, where: string): JobData {
  const d = data as Partial<Record<keyof JobData, unknown>> | null;
  if (!d || typeof d !== 'object') throw new DepthVideoError('PIPELINE_CONFIG', `${where}: the job carries no data`);
  for (const k of ['input', 'output'] as const) {
    if (typeof d[k] !== 'string' || !isAbsolute(d[k])) throw new DepthVideoError('PIPELINE_CONFIG', `${where}: ${k} must be an absolute path`);
  }
  for (const k of ['still', 'overwrite'] as const) {
    if (typeof d[k] !== 'boolean') throw new DepthVideoError('PIPELINE_CONFIG', `${where}: ${k} must be true or false`);
  }
  const extra = Object.keys(d).filter((k) => !['input', 'output', 'still', 'overwrite', 'options'].includes(k));
  if (extra.length) throw new DepthVideoError('PIPELINE_CONFIG', `${where}: unknown field "${extra[0]}"`);
  const options = validateFileOptions(d.options, `${where} options`);
  return { input: d.input as string, output: d.output as string, still: d.still as boolean, overwrite: d.overwrite as boolean, options };
}
