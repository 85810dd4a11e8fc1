import { Command, CommanderError } from 'commander';
import { DepthVideoError, isDepthVideoError } from '../errors.js';
import { packageVersion } from '../paths.js';
import { loadPreset } from '../pipeline/preset.js';
import type { FrameSink } from '../pipeline/types.js';
import { isStillPath } from '../batch/discover.js';
import { registerModelsCommand } from './models-command.js';
import { registerDemoCommand } from './demo.js';
import { registerReplayCommand } from './replay.js';
import { registerBatchCommand } from './batch.js';
import { registerQueueCommands } from './queue.js';
import type { CliExtension, Flags } from './extension.js';
import { liveExtension } from './live.js';
import { recordExtension } from './record.js';
import { RunControl } from '../pipeline/control.js';
import type { PipelineInput } from '../pipeline/run.js';
import type { CliIO } from './io.js';
import { runWithConsole } from './console.js';
import { addPipelineOptions, buildOptions, presetFor, type PipelineFlags } from './pipeline-flags.js';
import { addPointCloudOptions, cameraFromFlags } from './point-cloud-args.js';

export type { CliIO } from './io.js';
export { runWithConsole } from './console.js';

/** Features plugged into the main command, in the order their options are listed. */
const EXTENSIONS: readonly CliExtension[] = [liveExtension, recordExtension];

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

/** Options of the main command, as commander parses them. */
interface MainFlags extends PipelineFlags {
  out?: string;
  overwrite?: boolean;
  quiet?: boolean;
  json?: boolean;
  depthRange?: { dMin: number; dMax: number };
  fov?: number;
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
    .version(packageVersion())
    .argument('[input]', 'video or image file')
    .option('-o, --out <file>', 'output video (.mp4 .mkv .webm .mov), image (.png .jpg), or point cloud (.ply; frames/%05d.ply for one per frame)');
  addPipelineOptions(program, preset, { schedule: true });
  addPointCloudOptions(program)
    .option('--overwrite', 'replace an existing output file')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .option('--json', 'print a machine-readable summary on stdout')
    .showHelpAfterError('(run depth-video --help for every option)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .action(async (inputArg: string | undefined, flags: MainFlags, cmd: Command) => {
      const all = flags as unknown as Flags;
      const runPreset = presetFor(flags, preset);
      for (const ext of EXTENSIONS) {
        const code = await ext.handle?.(all, io, buildOptions(cmd, flags, runPreset, true));
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
      const still = input.kind === 'file' && isStillPath(input.path);
      const opts = { ...buildOptions(cmd, flags, runPreset, still), output: flags.out ?? null, overwrite: flags.overwrite ?? false, pointCloud: cameraFromFlags(flags) };
      const control = new RunControl(opts.sync ? 'sync' : 'async');
      const sinks = [];
      for (const ext of EXTENSIONS) sinks.push(...((await ext.sinks?.({ flags: all, io, control, inputLabel: label, input, run: opts })) ?? []));
      setExit(await runWithConsole({ ...opts, input, control, sinks }, io, { quiet: flags.quiet ?? false, json: flags.json ?? false }));
    });
  for (const ext of EXTENSIONS) ext.addOptions(program);
  registerDemoCommand(program, io, setExit);
  registerModelsCommand(program, io, setExit);
  registerReplayCommand(program, io, setExit);
  registerBatchCommand(program, io, setExit);
  registerQueueCommands(program, io, setExit);
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
