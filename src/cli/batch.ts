import type { Command } from 'commander';
import { runBatch, type BatchSummary, type FileReport } from '../batch/run.js';
import { loadPreset } from '../pipeline/preset.js';
import { stopOnSignals, untrainedBanner } from './console.js';
import { shortPath, type CliIO } from './io.js';
import { addPipelineOptions, extOption, fileOptionsFrom, presetFor, type PipelineFlags } from './pipeline-flags.js';
import { batchProgressText, statusLine } from './progress.js';
import { untrainedTag } from './summary.js';
import { counted } from '../count.js';

interface BatchFlags extends PipelineFlags {
  outDir: string;
  ext?: string;
  overwrite?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** The per-file line printed as each file ends. */
export function fileLine(r: FileReport): string {
  const io = `${shortPath(r.input)} -> ${shortPath(r.output)}`;
  const took = `${counted(r.frames, 'frame')} in ${(r.wallMs / 1000).toFixed(1)} s (${r.fps.toFixed(1)} fps)${untrainedTag(r.model?.untrained ?? false)}`;
  switch (r.status) {
    case 'done': return `done     ${io}: ${took}`;
    case 'skipped': return `skipped  ${io}: ${r.message}`;
    case 'damaged': return `damaged  ${io}: ${took}; ${r.message}`;
    case 'interrupted': return `stopped  ${io}: ${r.message}`;
    case 'failed': return `FAILED   ${shortPath(r.input)}: ${r.message}`;
  }
}

/** 130 after Ctrl-C, 1 if any file failed, 3 if any input was damaged (its frames before the damage kept), else 0. */
export function batchExitCode(s: BatchSummary): number {
  if (s.interrupted) return 130;
  if (s.counts.failed) return 1;
  if (s.counts.damaged) return 3;
  return 0;
}

function summaryLine(s: BatchSummary): string {
  const c = s.counts;
  const model = s.model ? `, model ${s.model.label}${untrainedTag(s.model.untrained)}` : '';
  return `batch ${s.interrupted ? 'stopped' : 'finished'}: ${c.done} done, ${c.skipped} skipped, ${c.failed} failed, ${c.damaged} damaged` +
    `${c.interrupted ? `, ${c.interrupted} stopped` : ''} in ${(s.wallMs / 1000).toFixed(1)} s; ${counted(s.frames, 'frame')} (${s.fps.toFixed(1)} fps)${model}` +
    (s.interrupted ? '\nrun the same command again to resume: finished files are skipped, the stopped one is redone' : '');
}

/** `depth-video batch <inputs…> --out-dir <dir>`: thin wiring over src/batch. */
export function registerBatchCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const preset = loadPreset('default');
  const cmd = program
    .command('batch')
    .description('depth for every video and image in folders, lists (.txt) or globs, on one model session; resumable')
    .argument('<inputs...>', 'folders (searched recursively), .txt lists of paths, glob patterns (quoted) or files')
    .requiredOption('--out-dir <dir>', 'where the outputs go, mirroring the input tree (a folder; URLs are not supported)');
  addPipelineOptions(cmd, preset, { schedule: false })
    .addOption(extOption())
    .option('--overwrite', 'replace existing outputs that this batch did not make')
    .option('-q, --quiet', 'only failures and the final line on stderr')
    .option('--json', 'one JSON summary per file on stdout (JSON lines)')
    .action(async (inputs: string[], flags: BatchFlags, c: Command) => {
      const options = fileOptionsFrom(c, flags, presetFor(flags, preset), flags.ext);
      const quiet = flags.quiet ?? false;
      const status = statusLine(io.stderr, quiet);
      const stop = stopOnSignals(io, 'finishing the current file so far; run the batch again to resume');
      let summary: BatchSummary;
      try {
        summary = await runBatch({
          inputs,
          outDir: flags.outDir,
          options,
          overwrite: flags.overwrite ?? false,
          allowDownload: flags.download,
          signal: stop.signal,
          hooks: {
            onPlan: (p) => { if (!quiet) status.print(`batch: ${counted(p.files, 'file')} below ${shortPath(p.root)}, ${p.toDo} to do, ${p.skipped} finished before`); },
            onModel: (m) => {
              if (m.untrained) status.print(untrainedBanner(m.label, m.path).trimEnd());
              if (!quiet) status.print(`device: ${m.deviceLabel}`);
            },
            onProgress: (p) => status.update((w) => batchProgressText(p, w)),
            onFile: (r) => {
              if (flags.json) io.stdout.write(JSON.stringify(r) + '\n');
              if (!quiet || r.status === 'failed' || r.status === 'damaged') status.print(fileLine(r));
            },
            onWarning: (line) => { if (!quiet) status.print(`warning: ${line}`); },
            onNote: (line) => { if (!quiet) status.print(line); },
          },
        });
      } finally {
        status.done();
        stop.dispose();
      }
      const code = batchExitCode(summary);
      if (!quiet || code !== 0) io.stderr.write(summaryLine(summary) + '\n');
      setExit(code);
    });
}
