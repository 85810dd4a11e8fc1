/**
 * Every failure a user can meet is a DepthVideoError: one line saying what went
 * wrong, which file, and what to do. The CLI prints `message` and exits with
 * `exitCode`; library callers can switch on `code`.
 */
export type ErrorCode =
  | 'INPUT_MISSING'
  | 'INPUT_NOT_MEDIA'
  | 'INPUT_DAMAGED'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_DIR'
  | 'OUTPUT_FORMAT'
  | 'MODEL_MISSING'
  | 'MODEL_INVALID'
  | 'MODEL_SHAPE'
  | 'MODEL_UNKNOWN'
  | 'CHECKPOINT_UNKNOWN'
  | 'CHECKPOINT_MISMATCH'
  | 'DOWNLOAD'
  | 'CHECKSUM'
  | 'DEVICE'
  | 'DEVICE_LOST'
  | 'PIPELINE_CONFIG'
  | 'USAGE'
  | 'FFMPEG'
  /** A worker thread of the pipeline stopped. */
  | 'WORKER'
  | 'WEBCAM'
  | 'PORT_IN_USE'
  | 'RECORDING'
  | 'REDIS'
  | 'INTERRUPTED'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_REFUSED'
  | 'CHECKPOINT_DAMAGED';

/** Exit codes other than 1 (bad input and everything else). */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = { USAGE: 2, INPUT_DAMAGED: 3, CHECKPOINT_DAMAGED: 3, INTERRUPTED: 130 };

export class DepthVideoError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { file?: string; exitCode?: number; cause?: unknown } = {}) {
    // A user sees exactly one line, whatever the underlying tool printed.
    super(message.replace(/\s*\n\s*/g, ' ').trim(), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DepthVideoError';
    this.code = code;
    this.file = opts.file;
    this.exitCode = opts.exitCode ?? EXIT_CODES[code] ?? 1;
  }
}

export function isDepthVideoError(e: unknown): e is DepthVideoError {
  return e instanceof DepthVideoError;
}

/** Short text of any thrown value, for wrapping foreign errors into one line. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}
