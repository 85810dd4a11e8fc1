import { runPipeline, type PipelineOptions, type RunSummary } from '../pipeline/run.js';
import type { CliIO } from './io.js';
import { createProgress, type ProgressReporter } from '../models/progress.js';
import { progressPrinter } from './progress.js';
import { summaryText, UNTRAINED_BANNER } from './summary.js';

/**
 * Ctrl-C (or SIGTERM) once aborts `signal` so the work in progress can end
 * cleanly; twice quits at once with 130. `what` ends the first message
 * ("finishing the output so far").
 */
export function stopOnSignals(io: CliIO, what: string): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      io.stderr.write(sig === 'SIGINT'
        ? `\nstopping: ${what} (press Ctrl-C again to quit at once)\n`
        : `\nstopping on ${sig}: ${what}\n`);
      controller.abort();
    } else process.exit(130);
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

/** The loud untrained-model banner for a model label and path. */
export function untrainedBanner(label: string, path: string): string {
  return UNTRAINED_BANNER.replace('%s', `${label} (${path})`) + '\n';
}

/** Runs a pipeline with the CLI's progress, banner, Ctrl-C handling and summary. */
export async function runWithConsole(opts: PipelineOptions, io: CliIO, view: { quiet: boolean; json: boolean }): Promise<number> {
  const stop = stopOnSignals(io, 'finishing the output so far');
  const progress = progressPrinter(io.stderr, view.quiet);
  // A model downloaded or converted on first use: its own bar, ended once the model is loaded.
  const model: { bar: ProgressReporter | null } = { bar: null };
  let summary: RunSummary;
  try {
    summary = await runPipeline({
      ...opts,
      signal: stop.signal,
      hooks: {
        onModel: (m) => {
          model.bar?.done();
          model.bar = null;
          if (m.untrained) io.stderr.write(untrainedBanner(m.label, m.path));
          if (!view.quiet) io.stderr.write(`device: ${m.deviceLabel}\n`);
        },
        onWarning: (line) => { if (!view.quiet) io.stderr.write(`warning: ${line}\n`); },
        onNote: (line) => { if (!view.quiet) io.stderr.write(`${line}\n`); },
        onModelProgress: (done, total) => {
          if (view.quiet) return;
          model.bar ??= createProgress('preparing the model', io.stderr);
          model.bar.update(done, total);
        },
        onProgress: (p) => progress.update(p),
        ...opts.hooks,
      },
    });
  } finally {
    model.bar?.done();
    progress.done();
    stop.dispose();
  }
  if (view.json) io.stdout.write(JSON.stringify(summary) + '\n');
  if (!view.quiet || summary.damage || summary.interrupted) io.stderr.write(summaryText(summary) + '\n');
  if (summary.damage) {
    io.stderr.write(`depth-video: ${summary.damage}\n`);
    return 3;
  }
  return summary.interrupted ? 130 : 0;
}
