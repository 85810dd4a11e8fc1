import { readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { DepthVideoError, errorText } from '../errors.js';
import { DepthSession } from '../inference/session.js';
import { resolveModel } from '../models/resolve.js';
import { runPipeline, type ProgressInfo, type RunSummary } from '../pipeline/run.js';
import { mkdirParents } from '../sinks/recorder/fs.js';
import { pipelineOptionsFor, type FileOptions } from './options.js';

/** Loads the model a set of file options asks for, once for many files. */
export async function openSession(o: FileOptions, ctl: { allowDownload: boolean; signal?: AbortSignal; onWarning?: (line: string) => void; onNote?: (line: string) => void }): Promise<DepthSession> {
  const { path } = await resolveModel(o.model, { allowDownload: ctl.allowDownload, signal: ctl.signal, onWarning: ctl.onWarning, onNote: ctl.onNote, checkpoint: o.checkpoint });
  return DepthSession.open(path, { device: o.device, threads: o.threads ?? undefined, spec: o.spec, onWarning: ctl.onWarning });
}

export interface RenderFileControl {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ProgressInfo) => void;
  readonly onWarning?: (line: string) => void;
  /**
   * After an interruption, move the (finished, playable) part into place
   * (a batch: the user sees what was done) or throw it away (a queue job: it
   * goes back to the queue and is redone whole).
   */
  readonly keepInterrupted: boolean;
}

/** A temporary name beside `output`, unique to this process, with the same extension (ffmpeg picks the format by it). */
function partialPath(output: string, tag: string): string {
  const ext = extname(output);
  return join(dirname(output), `.${basename(output, ext)}.partial-${tag}${ext}`);
}

/** Removes temporary files a killed run left for this output (any process, any machine). */
async function removePartials(output: string): Promise<void> {
  const ext = extname(output);
  const prefix = `.${basename(output, ext)}.partial-`;
  const dir = dirname(output);
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix) && n.endsWith(ext)).map((n) => rm(join(dir, n), { force: true })));
}

/**
 * Renders one input to `output` on an open session. The file is written under
 * a temporary name beside the output and renamed into place only when it is
 * finished, so the output path never holds half a file: a run that is killed
 * leaves at most a hidden `.name.partial-…` file, which the next attempt at
 * the same output removes. The caller must be the only one making `output`
 * (a batch holds its folder's lock, a queue job its BullMQ lock).
 */
export async function renderFile(session: DepthSession, input: string, output: string, still: boolean, o: FileOptions, ctl: RenderFileControl): Promise<RunSummary> {
  try {
    await mkdirParents(dirname(output));
  } catch (e) {
    throw new DepthVideoError('OUTPUT_DIR', `cannot create the output folder ${dirname(output)} (${errorText(e)}): check the --out-dir path and its permissions`, { file: output });
  }
  await removePartials(output);
  const tmp = partialPath(output, `${hostname()}-${process.pid}`);
  let summary: RunSummary;
  try {
    summary = await runPipeline({
      ...pipelineOptionsFor(o, input, tmp, still),
      session,
      signal: ctl.signal,
      hooks: { onProgress: ctl.onProgress, onWarning: ctl.onWarning },
    });
    // Stopped before the first frame: the encoder never started, there is no file.
    if (summary.frames.written === 0 || (summary.interrupted && !ctl.keepInterrupted)) {
      await rm(tmp, { force: true });
      return { ...summary, output: null };
    }
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { ...summary, output };
}
