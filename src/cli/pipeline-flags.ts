import { type Command, InvalidArgumentError, Option } from 'commander';
import { validateFileOptions, type FileOptions } from '../batch/options.js';
import { FAMILY_NAMES } from '../convert/catalogue.js';
import { DEVICE_NAMES, type DeviceName } from '../inference/device.js';
import type { CheckpointChoice } from '../models/converted.js';
import { loadPreset, type PipelinePreset } from '../pipeline/preset.js';
import type { PipelineOptions } from '../pipeline/run.js';
import { COLORMAP_NAMES } from '../render/colormap.js';
import { LAYOUT_NAMES } from '../render/layout.js';
import type { StabilizeMode } from '../stabilize/stabilize.js';
import type { ColormapName, LayoutName, PreprocessSpec } from '../types.js';

export function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** --max-depth: metres, above zero. */
export function metresArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('--max-depth takes a positive number of metres, e.g. 20 or 80');
  return n;
}

/** --family: the variants the converter knows (they become part of the cached model's name). */
export function familyOption(description: string): Option {
  return new Option('--family <name>', description).choices(FAMILY_NAMES);
}

export const MAX_DEPTH_HELP = 'metric checkpoints: the depth the output is scaled to, in metres (20 indoor, 80 outdoor)';

function tripleArg(name: string) {
  return (v: string): [number, number, number] => {
    const parts = v.split(',').map((x) => Number(x.trim()));
    if (parts.length === 1 && Number.isFinite(parts[0])) return [parts[0]!, parts[0]!, parts[0]!];
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`${name} takes one number or three (r,g,b), e.g. 0.485,0.456,0.406`);
    return parts as [number, number, number];
  };
}

/** The pipeline options shared by the main command, `batch` and `enqueue`, as commander parses them. */
export interface PipelineFlags {
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
  family?: string;
  maxDepth?: number;
  device: DeviceName;
  threads?: number;
  workers?: number;
  audio: boolean;
  lossless?: boolean;
  maxFrames?: number;
  download: boolean;
}

/**
 * Adds the options that shape a run (model, rendering, preprocessing,
 * device); defaults come from the default preset, and `--pipeline` swaps in
 * another one for every option not given on the command line.
 */
export function addPipelineOptions(cmd: Command, preset: PipelinePreset, opts: { schedule: boolean }): Command {
  cmd
    .option('-m, --model <name[:variant]|file.onnx|file.pth>', 'model: a name from `models list` (with :fp16, :q4f16, … for another precision), an .onnx file, or a PyTorch checkpoint (converted on first use)', preset.model)
    .option('--pipeline <file|name>', 'load defaults from a preset (pipelines/*.json); flags override it', 'default');
  if (opts.schedule) cmd.option('--sync', 'process every frame, as fast as the machine allows (default: drop frames while busy, latest wins)');
  return cmd
    .addOption(new Option('--colormap <name>', 'colour table').choices([...COLORMAP_NAMES]).default(preset.render.colormap))
    .option('--invert', 'far = bright instead of near = bright', preset.render.invert ?? false)
    .option('--high-contrast', 'histogram-equalise the depth before colouring', preset.render.highContrast ?? false)
    .addOption(new Option('--layout <layout>', 'what the output shows').choices([...LAYOUT_NAMES]).default(preset.render.layout))
    .addOption(new Option('--stabilize <mode>', 'temporal stabilisation (default: align for video, off for images)').choices(['off', 'normalize', 'align']))
    .option('--stabilize-window <frames>', 'time constant of the colour range, in inferred frames', intArg('--stabilize-window', 0, 10000), preset.render.stabilizeWindow ?? 15)
    .option('--size <px>', "inference size (default: the model's own)", intArg('--size', 14, 4096))
    .option('--mean <r,g,b>', "normalisation mean (default: the model family's)", tripleArg('--mean'))
    .option('--std <r,g,b>', "normalisation std (default: the model family's)", tripleArg('--std'))
    .option('--multiple-of <n>', "round input sides to a multiple of n (default: the model family's)", intArg('--multiple-of', 1, 1024))
    .option('--keep-aspect', 'keep the frame aspect ratio when resizing for the model')
    .option('--no-keep-aspect', 'squash frames to the model size')
    .addOption(familyOption('with --model <file.pth>: the architecture, when the file name does not say (e.g. depth-anything-v1, depth-anything-v2-metric)'))
    .option('--max-depth <metres>', `with --model <file.pth>: ${MAX_DEPTH_HELP}`, metresArg)
    .addOption(new Option('--device <device>', 'where the model runs; auto: CUDA, else a hardware WebGPU adapter, else CoreML/DirectML, else the CPU').choices([...DEVICE_NAMES]).default(preset.device ?? 'auto'))
    .option('--threads <n>', 'inference threads (default: all cores)', intArg('--threads', 1, 256))
    .option('--workers <n>', 'threads for preprocessing and rendering, 0 for the main thread (default: cores - 1, 1 to 8)', intArg('--workers', 0, 64))
    .option('--no-audio', 'drop the audio track (default: copied)')
    .option('--lossless', 'lossless RGB output (FFV1, .mkv only)')
    .option('--max-frames <n>', 'stop after n frames', intArg('--max-frames', 1, 1e9))
    .option('--no-download', 'never download a named model; fail if it is missing');
}

/** --ext of the commands that name outputs themselves (batch, enqueue). */
export function extOption(): Option {
  return new Option('--ext <ext>', 'video output type (default mp4, mkv with --lossless); images become .png').choices(['mp4', 'mkv', 'webm', 'mov', 'm4v']);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The preset named by --pipeline (the default one unless given). */
export function presetFor(flags: PipelineFlags, fallback: PipelinePreset): PipelinePreset {
  return flags.pipeline && flags.pipeline !== 'default' ? loadPreset(flags.pipeline) : fallback;
}

/** --family / --max-depth, without absent keys (the options cross Redis and a JSON schema). */
function checkpointChoice(flags: PipelineFlags): CheckpointChoice | undefined {
  if (flags.family === undefined && flags.maxDepth === undefined) return undefined;
  return { ...(flags.family !== undefined ? { family: flags.family } : {}), ...(flags.maxDepth !== undefined ? { maxDepth: flags.maxDepth } : {}) };
}

/** Everything a run needs besides the input and output, merged from preset and flags. */
export function buildOptions(cmd: Command, flags: PipelineFlags, preset: PipelinePreset, still: boolean): Omit<PipelineOptions, 'input' | 'output'> {
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
    checkpoint: checkpointChoice(flags),
    audio: fromCli('audio') ? flags.audio : preset.audio ?? true,
    lossless: flags.lossless ?? false,
    device: fromCli('device') ? flags.device : preset.device ?? 'auto',
    threads: flags.threads ?? preset.threads ?? undefined,
    workers: flags.workers,
    maxFrames: flags.maxFrames,
    allowDownload: flags.download,
  };
}

/**
 * The per-file options of a batch or a queued job: the same merge, for videos
 * and for pictures at once. `ext` is --ext (mkv when --lossless).
 */
export function fileOptionsFrom(cmd: Command, flags: PipelineFlags, preset: PipelinePreset, ext: string | undefined): FileOptions {
  const video = buildOptions(cmd, flags, preset, false);
  const lossless = video.lossless ?? false;
  const bare = (ext ?? (lossless ? 'mkv' : 'mp4')).replace(/^\./, '').toLowerCase();
  return validateFileOptions({
    model: video.model,
    ...(video.checkpoint ? { checkpoint: video.checkpoint } : {}),
    render: video.render,
    stillStabilize: flags.stabilize ?? 'off',
    spec: video.spec ?? {},
    audio: video.audio ?? true,
    lossless,
    device: video.device ?? 'auto',
    threads: video.threads ?? null,
    maxFrames: video.maxFrames ?? null,
    videoExt: `.${bare}`,
  }, 'options');
}
