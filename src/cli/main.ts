import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createRequire } from 'node:module';
import { DepthVideoError, isDepthVideoError } from '../errors.js';
import { COLORMAP_NAMES } from '../render/colormap.js';
import { loadPreset, type PipelinePreset } from '../pipeline/preset.js';
import { runPipeline, type PipelineOptions, type RunSummary } from '../pipeline/run.js';
import type { FrameSink } from '../pipeline/types.js';
import type { ColormapName, LayoutName, PreprocessSpec } from '../types.js';
import { DEVICE_NAMES, type DeviceName } from '../inference/device.js';
import type { StabilizeMode } from '../render/stabilize.js';
import { progressPrinter } from './progress.js';
import { summaryText, UNTRAINED_BANNER } from './summary.js';
import { registerModelsCommand } from './models-command.js';
import { registerDemoCommand } from './demo.js';
import { registerReplayCommand } from './replay.js';
import type { CliExtension, Flags } from './extension.js';
import { liveExtension } from './live.js';
import { recordExtension } from './record.js';
import { RunControl } from '../pipeline/control.js';
import type { PipelineInput } from '../pipeline/run.js';

/** Features plugged into the main command, in the order their options are listed. */
const EXTENSIONS: readonly CliExtension[] = [liveExtension, recordExtension];

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;

export interface CliIO {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

function tripleArg(name: string) {
  return (v: string): [number, number, number] => {
    const parts = v.split(',').map((x) => Number(x.trim()));
    if (parts.length === 1 && Number.isFinite(parts[0])) return [parts[0]!, parts[0]!, parts[0]!];
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`${name} takes one number or three (r,g,b), e.g. 0.485,0.456,0.406`);
    return parts as [number, number, number];
  };
}

/** Options of the main command, as commander parses them. */
interface MainFlags {
  out?: string;
  model: string;
  pipeline?: string;
  sync?: boolean;
  colormap: ColormapName;
  invert: boolean;
  highContrast: boolean;
  layout: LayoutName;
  stabilize?: StabilizeMode;
  stabilizeWindow: number;
  size?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  multipleOf?: number;
  keepAspect?: boolean;
  device: DeviceName;
  threads?: number;
  workers?: number;
  audio: boolean;
  lossless?: boolean;
  overwrite?: boolean;
  quiet?: boolean;
  json?: boolean;
  maxFrames?: number;
  download: boolean;
}

/** Everything a run needs besides the input, merged from preset and flags. */
export function buildOptions(cmd: Command, flags: MainFlags, preset: PipelinePreset, still: boolean): Omit<PipelineOptions, 'input'> {
  const fromCli = (k: string) => cmd.getOptionValueSource(k) === 'cli';
  const r = preset.render;
  const spec: Partial<Mutable<PreprocessSpec>> = {};
  const size = fromCli('size') ? flags.size : preset.size ?? undefined;
  if (size) { spec.width = size; spec.height = size; spec.native = false; }
  if (flags.mean) spec.mean = flags.mean;
  if (flags.std) spec.std = flags.std;
  if (flags.multipleOf) spec.multipleOf = flags.multipleOf;
  if (flags.keepAspect !== undefined) spec.keepAspect = flags.keepAspect;
  const stabilize: StabilizeMode = flags.stabilize ?? (still ? 'off' : r.stabilize ?? 'align');
  return {
    output: flags.out ?? null,
    model: fromCli('model') ? flags.model : preset.model,
    sync: flags.sync ?? preset.schedule === 'sync',
    render: {
      colormap: fromCli('colormap') ? flags.colormap : r.colormap,
      invert: fromCli('invert') ? flags.invert : r.invert ?? false,
      highContrast: fromCli('highContrast') ? flags.highContrast : r.highContrast ?? false,
      layout: fromCli('layout') ? flags.layout : r.layout,
      stabilize,
      stabilizeWindow: fromCli('stabilizeWindow') ? flags.stabilizeWindow : r.stabilizeWindow ?? 15,
    },
    spec,
    overwrite: flags.overwrite ?? false,
    audio: fromCli('audio') ? flags.audio : preset.audio ?? true,
    lossless: flags.lossless ?? false,
    device: fromCli('device') ? flags.device : preset.device ?? 'auto',
    threads: flags.threads ?? preset.threads ?? undefined,
    workers: flags.workers,
    maxFrames: flags.maxFrames,
    allowDownload: flags.download,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Runs a pipeline with the CLI's progress, banner, Ctrl-C handling and summary. */
export async function runWithConsole(opts: PipelineOptions, io: CliIO, view: { quiet: boolean; json: boolean }): Promise<number> {
  const controller = new AbortController();
  let sigints = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    sigints++;
    if (sigints === 1) {
      io.stderr.write(sig === 'SIGINT'
        ? '\nstopping: finishing the output so far (press Ctrl-C again to quit at once)\n'
        : `\nstopping on ${sig}: finishing the output so far\n`);
      controller.abort();
    } else process.exit(130);
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const progress = progressPrinter(io.stderr, view.quiet);
  let summary: RunSummary;
  try {
    summary = await runPipeline({
      ...opts,
      signal: controller.signal,
      hooks: {
        onModel: (m) => {
          if (m.untrained) io.stderr.write(UNTRAINED_BANNER.replace('%s', `${m.label} (${m.path})`) + '\n');
          if (!view.quiet) io.stderr.write(`device: ${m.deviceLabel}\n`);
        },
        onWarning: (line) => { if (!view.quiet) io.stderr.write(`warning: ${line}\n`); },
        onProgress: (p) => progress.update(p),
        ...opts.hooks,
      },
    });
  } finally {
    progress.done();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  if (view.json) io.stdout.write(JSON.stringify(summary) + '\n');
  if (!view.quiet || summary.damage || summary.interrupted) io.stderr.write(summaryText(summary) + '\n');
  if (summary.damage) {
    io.stderr.write(`depth-video: ${summary.damage}\n`);
    return 3;
  }
  return summary.interrupted ? 130 : 0;
}

/** Extra sinks for the main command (preview, recorder); later features register here. */
export type SinkFactory = (flags: Record<string, unknown>) => Promise<FrameSink[]> | FrameSink[];

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const preset = loadPreset('default');
  const program = new Command();
  program
    // Options after a subcommand belong to it (replay --out is replay's, not the main command's).
    .enablePositionalOptions()
    .name('depth-video')
    .description('Turn videos and images into depth video with MiDaS / DPT / Depth-Anything ONNX models.')
    .version(VERSION)
    .argument('[input]', 'video or image file')
    .option('-o, --out <file>', 'output video (.mp4 .mkv .webm .mov) or image (.png .jpg)')
    .option('-m, --model <name[:variant]|file.onnx>', 'model: a name from `models list` (with :fp16, :q4f16, … for another precision), or an .onnx file', preset.model)
    .option('--pipeline <file|name>', 'load defaults from a preset (pipelines/*.json); flags override it', 'default')
    .option('--sync', 'process every frame, as fast as the machine allows (default: drop frames while busy, latest wins)')
    .addOption(new Option('--colormap <name>', 'colour table').choices([...COLORMAP_NAMES]).default(preset.render.colormap))
    .option('--invert', 'far = bright instead of near = bright', preset.render.invert ?? false)
    .option('--high-contrast', 'histogram-equalise the depth before colouring', preset.render.highContrast ?? false)
    .addOption(new Option('--layout <layout>', 'what the output shows').choices(['depth', 'side-by-side', 'stacked']).default(preset.render.layout))
    .addOption(new Option('--stabilize <mode>', 'temporal stabilisation (default: align for video, off for images)').choices(['off', 'normalize', 'align']))
    .option('--stabilize-window <frames>', 'time constant of the colour range, in inferred frames', intArg('--stabilize-window', 0, 10000), preset.render.stabilizeWindow ?? 15)
    .option('--size <px>', "inference size (default: the model's own)", intArg('--size', 14, 4096))
    .option('--mean <r,g,b>', "normalisation mean (default: the model family's)", tripleArg('--mean'))
    .option('--std <r,g,b>', "normalisation std (default: the model family's)", tripleArg('--std'))
    .option('--multiple-of <n>', "round input sides to a multiple of n (default: the model family's)", intArg('--multiple-of', 1, 1024))
    .option('--keep-aspect', 'keep the frame aspect ratio when resizing for the model')
    .option('--no-keep-aspect', 'squash frames to the model size')
    .addOption(new Option('--device <device>', 'where the model runs; auto: CUDA, else a hardware WebGPU adapter, else CoreML/DirectML, else the CPU').choices([...DEVICE_NAMES]).default(preset.device ?? 'auto'))
    .option('--threads <n>', 'inference threads (default: all cores)', intArg('--threads', 1, 256))
    .option('--workers <n>', 'threads for preprocessing and rendering, 0 for the main thread (default: cores - 1, 1 to 8)', intArg('--workers', 0, 64))
    .option('--no-audio', 'drop the audio track (default: copied)')
    .option('--lossless', 'lossless RGB output (FFV1, .mkv only)')
    .option('--overwrite', 'replace an existing output file')
    .option('--max-frames <n>', 'stop after n frames', intArg('--max-frames', 1, 1e9))
    .option('--no-download', 'never download a named model; fail if it is missing')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .option('--json', 'print a machine-readable summary on stdout')
    .showHelpAfterError('(run depth-video --help for every option)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .action(async (inputArg: string | undefined, flags: MainFlags, cmd: Command) => {
      const all = flags as unknown as Flags;
      for (const ext of EXTENSIONS) {
        const code = await ext.handle?.(all, io);
        if (code !== null && code !== undefined) { setExit(code); return; }
      }
      let input: PipelineInput | null = null;
      for (const ext of EXTENSIONS) input ??= (await ext.input?.(all, io)) ?? null;
      if (!input) {
        if (!inputArg) throw new DepthVideoError('USAGE', 'no input given: depth-video <input> --out <file> (or depth-video demo, depth-video --help)');
        input = { kind: 'file', path: inputArg };
      }
      const label = input.kind === 'file' ? input.path : input.label;
      if (!flags.out && !EXTENSIONS.some((e) => e.outputOptional?.(all))) {
        throw new DepthVideoError('USAGE', `no output given for ${label}: add --out depth.mp4 (or depth.png for an image)`);
      }
      const p = flags.pipeline && flags.pipeline !== 'default' ? loadPreset(flags.pipeline) : preset;
      const still = input.kind === 'file' && /\.(png|jpe?g|bmp|tiff?|webp)$/i.test(input.path);
      const opts = buildOptions(cmd, flags, p, still);
      const control = new RunControl(opts.sync ? 'sync' : 'async');
      const sinks = [];
      for (const ext of EXTENSIONS) sinks.push(...((await ext.sinks?.({ flags: all, io, control, inputLabel: label, input })) ?? []));
      setExit(await runWithConsole({ ...opts, input, control, sinks }, io, { quiet: flags.quiet ?? false, json: flags.json ?? false }));
    });
  for (const ext of EXTENSIONS) ext.addOptions(program);
  registerDemoCommand(program, io, setExit);
  registerModelsCommand(program, io, setExit);
  registerReplayCommand(program, io, setExit);
  return program;
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; they are successes here.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (isDepthVideoError(e)) {
      io.stderr.write(`depth-video: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`depth-video: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  }
}
