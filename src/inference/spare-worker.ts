import { Worker } from 'node:worker_threads';
import { builtScript, requireBuiltScript } from '../paths.js';
import type { FromWorker } from './protocol.js';

/**
 * An inference worker started before its model is known. Most of what a
 * worker costs before it can open a session is loading onnxruntime's native
 * library and setting it up (about 100 ms of one core here). Started first
 * thing, that runs on another core while the main thread loads its own
 * modules and probes the input, instead of after them. The worker waits for
 * its `init` message (protocol.ts) to open the session.
 *
 * Until the worker says it is `warm`, it must not be ended: a process that
 * exits, or a thread terminated, while onnxruntime loads aborts with
 * "terminate called after throwing an instance of 'Napi::Error'". So the
 * spare keeps the program alive until then (a command that fails at once
 * waits for it, ~100 ms), and only then lets it end whenever it likes.
 */
interface Spare {
  readonly worker: Worker;
  /** Settles once the worker is warm, or gone. */
  readonly settled: Promise<void>;
  dead: boolean;
}

const SCRIPT = 'inference/inference-worker.js';
let spare: Spare | null = null;

/**
 * Starts a spare inference worker if none is waiting. One that fails to
 * start is only noted: the session that would have taken it starts its own
 * and reports the failure.
 */
export function prestartInferenceWorker(): void {
  if (spare && !spare.dead) return;
  const path = builtScript(SCRIPT);
  if (!path) return;
  const worker = new Worker(path);
  let settle = () => {};
  const s: Spare = { worker, settled: new Promise<void>((r) => { settle = r; }), dead: false };
  const gone = () => {
    s.dead = true;
    settle();
  };
  const onMessage = (m: FromWorker) => {
    if (m.kind !== 'warm') return;
    worker.off('message', onMessage);
    // Idle and safe to end: an unused spare no longer holds the program open.
    if (spare === s) worker.unref();
    settle();
  };
  worker.on('message', onMessage);
  // Without an 'error' listener a failed worker would throw in this thread.
  worker.on('error', gone);
  worker.on('exit', gone);
  spare = s;
}

/** The spare worker, now the caller's (kept referenced), or a new one. */
export function takeInferenceWorker(): Worker {
  const s = spare;
  spare = null;
  if (s && !s.dead) {
    s.worker.ref();
    return s.worker;
  }
  return new Worker(requireBuiltScript(SCRIPT, 'inference worker'));
}

/** The waiting spare's thread id (null: none, or it died). */
export function spareInferenceWorkerId(): number | null {
  return spare && !spare.dead ? spare.worker.threadId : null;
}

/** Ends a spare no session took, once it may be ended (a run that failed before its model loaded must not leave a thread behind). */
export async function dropSpareInferenceWorker(): Promise<void> {
  const s = spare;
  spare = null;
  if (!s || s.dead) return;
  await s.settled;
  if (!s.dead) await s.worker.terminate();
}
