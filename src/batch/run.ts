import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { DepthVideoError, errorText, isDepthVideoError, type ErrorCode } from '../errors.js';
import { probeMedia } from '../ffmpeg/probe.js';
import type { DepthSession, ModelDescription } from '../inference/session.js';
import { mkdirParents } from '../sinks/recorder/fs.js';
import { discoverInputs, outDirPath, planOutputs, type BatchItem } from './discover.js';
import { openSession, renderFile } from './file-job.js';
import { optionsHash, type FileOptions } from './options.js';
import { BatchState, decide, type Decision, type Fingerprint, type StateEntry } from './state.js';
import { counted } from '../count.js';

export type FileStatus = 'done' | 'skipped' | 'failed' | 'damaged' | 'interrupted';

/** One line of a batch's report (and of `--json`). */
export interface FileReport {
  readonly input: string;
  readonly output: string;
  readonly status: FileStatus;
  /** Frames written by this run (0 when skipped or failed). */
  readonly frames: number;
  readonly wallMs: number;
  readonly fps: number;
  /** Why it failed, what was damaged, or why it was skipped; one line. */
  readonly message: string | null;
  readonly code: ErrorCode | null;
  /** The model that made the output (null when nothing was made); untrained ones make no real depth. */
  readonly model: { readonly label: string; readonly untrained: boolean } | null;
}

export interface BatchProgress {
  /** Files finished, skipped or failed so far. */
  readonly filesDone: number;
  readonly files: number;
  /** Frames written by this run so far. */
  readonly framesDone: number;
  /** Frames expected from the files to do (from their durations; null when none stated one). */
  readonly frames: number | null;
  readonly elapsedMs: number;
  /** Frames per second over the files processed so far. */
  readonly fps: number;
}

export interface BatchPlan {
  readonly root: string;
  readonly files: number;
  readonly toDo: number;
  readonly skipped: number;
  readonly frames: number | null;
}

export interface BatchHooks {
  onPlan?(plan: BatchPlan): void;
  /** The model is loaded (once per batch, and only if a file needs it). */
  onModel?(model: ModelDescription): void;
  onProgress?(p: BatchProgress): void;
  onFile?(r: FileReport): void;
  onWarning?(line: string): void;
  /** What is being done, not a problem: a checkpoint converted on first use. */
  onNote?(line: string): void;
}

export interface BatchOptions {
  /** Folders, .txt lists, globs, files. */
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly options: FileOptions;
  /** Replace existing outputs this batch did not make. */
  readonly overwrite?: boolean;
  readonly allowDownload?: boolean;
  /** Aborting finishes the current file's output (playable, recorded as unfinished) and stops. */
  readonly signal?: AbortSignal;
  readonly hooks?: BatchHooks;
}

export interface BatchSummary {
  readonly root: string;
  readonly outDir: string;
  readonly counts: Readonly<Record<FileStatus, number>>;
  readonly frames: number;
  readonly wallMs: number;
  readonly fps: number;
  readonly interrupted: boolean;
  readonly model: { readonly label: string; readonly path: string; readonly untrained: boolean } | null;
  readonly files: readonly FileReport[];
}

async function fingerprint(path: string): Promise<Fingerprint | null> {
  const st = await stat(path).catch(() => null);
  return st?.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
}

interface Planned {
  readonly item: BatchItem;
  readonly output: string;
  readonly key: string;
  readonly decision: Decision;
  readonly inputPrint: Fingerprint | null;
}

/** Probes up to two files at a time: a folder of clips should not start hundreds of ffmpeg processes. */
async function expectedFrames(paths: readonly string[], maxFrames: number | null): Promise<(number | null)[]> {
  const out: (number | null)[] = new Array(paths.length).fill(null);
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const i = next++;
      const n = await probeMedia(paths[i]!).then((m) => m.expectedFrames, () => null);
      out[i] = n !== null && maxFrames !== null ? Math.min(n, maxFrames) : n;
    }
  };
  await Promise.all([lane(), lane()]);
  return out;
}

/**
 * Renders every video and picture found in `inputs` into `outDir`, mirroring
 * the input tree, on one model session. Finished outputs (by the out dir's
 * state file) are skipped; a file that fails is reported and the batch goes
 * on. Outputs appear only when finished (temp + rename), except the file in
 * progress at an interruption, which is finished as far as it got, kept so the
 * user can watch it, and redone by the next run.
 */
export async function runBatch(opts: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  const outDir = outDirPath(opts.outDir);
  const o = opts.options;
  const hash = optionsHash(o);
  const { root, items } = await discoverInputs(opts.inputs, { skip: outDir });
  const outputs = planOutputs(items, outDir, o.videoExt);

  try {
    await mkdirParents(outDir);
  } catch (e) {
    throw new DepthVideoError('OUTPUT_DIR', `cannot create the out dir ${outDir} (${errorText(e)}): check the path and its permissions`, { file: outDir });
  }
  const state = await BatchState.open(outDir);
  let session: DepthSession | null = null;
  try {
    if (state.warning) opts.hooks?.onWarning?.(state.warning);
    const planned: Planned[] = [];
    for (const [i, item] of items.entries()) {
      const output = outputs[i]!;
      const key = relative(outDir, output);
      const inputPrint = await fingerprint(item.input);
      planned.push({ item, output, key, inputPrint, decision: decide(state.get(key), inputPrint, hash, await fingerprint(output)) });
    }
    const toDo = planned.filter((p) => p.decision !== 'skip');
    const expected = await expectedFrames(toDo.map((p) => p.item.input), o.maxFrames);
    const known = expected.filter((n): n is number => n !== null);
    const totalFrames = known.length ? known.reduce((a, b) => a + b, 0) : null;
    opts.hooks?.onPlan?.({ root, files: items.length, toDo: toDo.length, skipped: items.length - toDo.length, frames: totalFrames });

    const reports: FileReport[] = [];
    const counts: Record<FileStatus, number> = { done: 0, skipped: 0, failed: 0, damaged: 0, interrupted: 0 };
    let framesDone = 0;
    let workMs = 0;
    let interrupted = false;
    const report = (r: FileReport) => {
      reports.push(r);
      counts[r.status]++;
      opts.hooks?.onFile?.(r);
    };
    let fileStart = 0;
    const progress = (current: number) => {
      const busyMs = workMs + (fileStart ? performance.now() - fileStart : 0);
      const frames = framesDone + current;
      opts.hooks?.onProgress?.({ filesDone: reports.length, files: items.length, framesDone: frames, frames: totalFrames, elapsedMs: performance.now() - t0, fps: busyMs > 0 ? frames / (busyMs / 1000) : 0 });
    };

    for (const p of planned) {
      const base = { input: p.item.input, output: p.output, frames: 0, wallMs: 0, fps: 0, model: null };
      if (p.decision === 'skip') {
        report({ ...base, status: 'skipped', message: 'finished by an earlier run with the same input and options', code: null });
        continue;
      }
      if (opts.signal?.aborted) { interrupted = true; break; }
      if (p.decision === 'foreign' && !opts.overwrite) {
        report({ ...base, status: 'failed', message: `output ${p.output} already exists and was not made by this batch: pass --overwrite to replace it`, code: 'OUTPUT_EXISTS' });
        continue;
      }
      if (!session) {
        session = await openSession(o, { allowDownload: opts.allowDownload ?? true, signal: opts.signal, onWarning: opts.hooks?.onWarning, onNote: opts.hooks?.onNote });
        opts.hooks?.onModel?.(session.model);
      }
      fileStart = performance.now();
      const entry = (status: StateEntry['status'], frames: number, outputPrint: Fingerprint | null, error: string | null): StateEntry =>
        ({ input: p.item.input, inputPrint: p.inputPrint ?? { size: -1, mtimeMs: -1 }, options: hash, status, frames, outputPrint, error, at: new Date().toISOString() });
      try {
        const s = await renderFile(session, p.item.input, p.output, p.item.still, o, {
          signal: opts.signal,
          keepInterrupted: true,
          onProgress: (info) => progress(info.done),
          onWarning: opts.hooks?.onWarning,
        });
        const written = s.frames.written;
        framesDone += written;
        workMs += performance.now() - fileStart;
        fileStart = 0;
        const status = s.interrupted ? 'interrupted' : s.damage ? 'damaged' : 'done';
        // What is at the output path now: the new file, or (stopped before its first frame) the old one, untouched.
        await state.set(p.key, entry(status, written, await fingerprint(p.output), s.damage));
        report({ ...base, status, frames: written, wallMs: s.wallMs, fps: s.fps, model: { label: s.model.label, untrained: s.model.untrained }, message: s.interrupted ? `stopped after ${counted(written, 'frame')}; the next run redoes it` : s.damage, code: s.damage ? 'INPUT_DAMAGED' : null });
        if (s.interrupted) { interrupted = true; break; }
      } catch (e) {
        workMs += performance.now() - fileStart;
        fileStart = 0;
        const message = isDepthVideoError(e) ? e.message : `unexpected error: ${errorText(e)}`;
        // The output (if any) is untouched by a failed run: whatever was there is still ours, or still foreign.
        if (p.decision === 'run') await state.set(p.key, entry('failed', 0, await fingerprint(p.output), message));
        report({ ...base, status: 'failed', wallMs: 0, message, code: isDepthVideoError(e) ? e.code : null });
      }
      progress(0);
    }
    const wallMs = performance.now() - t0;
    const model = session?.model ?? null;
    return {
      root,
      outDir,
      counts,
      frames: framesDone,
      wallMs,
      fps: workMs > 0 ? framesDone / (workMs / 1000) : 0,
      interrupted,
      model: model ? { label: model.label, path: model.path, untrained: model.untrained } : null,
      files: reports,
    };
  } finally {
    await session?.close();
    await state.close();
  }
}
