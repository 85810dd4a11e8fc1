import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DepthVideoError } from '../errors.js';
import { failureLine, runFfmpeg } from '../ffmpeg/binary.js';
import { loadPreset } from '../pipeline/preset.js';
import type { CliIO } from './io.js';
import { runWithConsole } from './console.js';

/**
 * Writes a short synthetic clip with ffmpeg's lavfi sources: a moving test
 * pattern with a tone, so the demo exercises decode, audio copy, inference and
 * encode with nothing downloaded.
 */
export async function makeLavfiClip(path: string, opts: { seconds: number; size: string; rate: string; audio: boolean }): Promise<void> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${opts.size}:rate=${opts.rate}:duration=${opts.seconds}`];
  if (opts.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${opts.seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p');
  if (opts.audio) args.push('-c:a', 'aac', '-shortest');
  args.push(path);
  const r = await runFfmpeg(args);
  if (r.code !== 0) throw new DepthVideoError('FFMPEG', `could not make the demo clip ${path}: ${failureLine(r)}`, { file: path });
}

export function registerDemoCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description('make a 4 s clip with ffmpeg and run the default pipeline on it (no downloads)')
    .option('--dir <dir>', 'where the clip and its depth video go', 'depth-video-demo')
    .option('--model <name|file.onnx>', 'model to run (default: the default preset\'s)')
    .option('--sync', 'process every frame')
    .action(async (o: { dir: string; model?: string; sync?: boolean }) => {
      const dir = resolve(o.dir);
      await mkdir(dir, { recursive: true });
      const input = join(dir, 'input.mp4');
      const output = join(dir, 'depth.mp4');
      const preset = loadPreset('default');
      io.stderr.write(`demo: writing a 4 s 640x360 test clip to ${input}\n`);
      await makeLavfiClip(input, { seconds: 4, size: '640x360', rate: '30', audio: true });
      // The demo owns these two files; it says so rather than replacing them silently.
      const replaced = existsSync(output);
      await rm(output, { force: true });
      io.stderr.write(`demo: depth video${replaced ? ' (previous demo output replaced)' : ''} -> ${output}\n`);
      const code = await runWithConsole({
        input: { kind: 'file', path: input },
        output,
        model: o.model ?? preset.model,
        sync: o.sync ?? preset.schedule === 'sync',
        render: {
          colormap: preset.render.colormap,
          invert: preset.render.invert ?? false,
          highContrast: preset.render.highContrast ?? false,
          layout: 'side-by-side',
          stabilize: preset.render.stabilize ?? 'align',
          stabilizeWindow: preset.render.stabilizeWindow ?? 15,
        },
        overwrite: false,
        device: preset.device ?? 'auto',
        allowDownload: false,
      }, io, { quiet: false, json: false });
      setExit(code);
    });
}
