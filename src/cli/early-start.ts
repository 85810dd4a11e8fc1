import { prestartInferenceWorker } from '../inference/spare-worker.js';

/**
 * What bin/depth-video.js does before it loads the CLI (80-100 ms of
 * module loading): a command that will open a model starts its inference
 * worker now, so onnxruntime loads on another core meanwhile. This module
 * imports next to nothing, so that the head start is not spent loading it.
 */

/** Sub-commands that never open a model. */
const NO_SESSION = new Set(['models', 'replay', 'enqueue', 'queue', 'help']);
/** Flags that print something and end before any run. */
const NO_RUN = new Set(['-h', '--help', '-V', '--version', '--list-webcams']);

/** Whether these arguments (without node and the script) start a run that opens a model. */
export function opensModelSoon(args: readonly string[]): boolean {
  if (args.length === 0 || args.some((a) => NO_RUN.has(a))) return false;
  return !NO_SESSION.has(args[0]!);
}

export function startEarly(args: readonly string[]): void {
  if (opensModelSoon(args)) prestartInferenceWorker();
}
