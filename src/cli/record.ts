import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { DepthVideoError } from '../errors.js';
import type { RunControl } from '../pipeline/control.js';
import type { FrameSink } from '../pipeline/types.js';
import { checkRecordingDir, recorderSink, type RecorderSink } from '../sinks/recorder-sink.js';
import { defaultRecordingDir, RECORD_FORMATS, type RecordFormat } from '../sinks/recorder/index.js';
import type { CliExtension, ExtensionContext, Flags } from './extension.js';
import type { CliIO } from './main.js';
import { counted } from '../count.js';

/** The flags this extension adds, as commander names them. */
interface RecordFlags {
  /** A dir, or true for `--record` without one. */
  record?: string | true;
  recordFormat?: RecordFormat;
  recordMaxGb?: number;
  recordPaused?: boolean;
}

function gbArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('--record-max-gb takes a size in GB greater than 0, e.g. 2 or 0.5');
  return n;
}

const recordFlags = (flags: Flags): RecordFlags => flags as RecordFlags;

/** Whether the flags ask for a recording at all (`--record-paused` implies `--record`). */
function wantsRecording(flags: Flags): boolean {
  const f = recordFlags(flags);
  return f.record !== undefined || f.recordPaused === true;
}

/**
 * `r` in the terminal toggles recording. Raw mode only while the run is
 * running, restored on every way out (finish, abort, process exit); in raw
 * mode the terminal no longer turns Ctrl-C into SIGINT, so we do it.
 */
function terminalToggle(control: RunControl, initial: boolean): { enable(): void; disable(): void } {
  const stdin = process.stdin;
  let on = initial;
  const sub = control.recording.subscribe((v) => { on = v; });
  let active = false;
  const onData = (chunk: Buffer | string) => {
    for (const ch of chunk.toString()) {
      if (ch === 'r' || ch === 'R') control.recording.next(!on);
      else if (ch === '\u0003') process.kill(process.pid, 'SIGINT');
    }
  };
  const restore = () => {
    if (!active) return;
    active = false;
    stdin.off('data', onData);
    try { stdin.setRawMode(false); } catch { /* the terminal is gone */ }
    stdin.pause();
  };
  return {
    enable() {
      if (active || !stdin.isTTY) return;
      active = true;
      stdin.setRawMode(true);
      stdin.on('data', onData);
      stdin.resume();
      process.once('exit', restore);
    },
    disable() {
      restore();
      sub.unsubscribe();
      process.off('exit', restore);
    },
  };
}

/** Wraps the recorder sink so the terminal key lives exactly as long as the run. */
function withTerminalKey(sink: RecorderSink, key: { enable(): void; disable(): void }, io: CliIO, quiet: boolean, paused: boolean): FrameSink {
  return {
    name: sink.name,
    wantsRaw: sink.wantsRaw,
    async start(ctx) {
      await sink.start?.(ctx);
      key.enable();
      if (!quiet && process.stdin.isTTY) {
        io.stderr.write(`recording to ${sink.dir}${paused ? ' (paused)' : ''}: press r to ${paused ? 'start' : 'pause'} recording\n`);
      }
    },
    write: (out) => sink.write(out),
    async finish(interrupted) {
      key.disable();
      await sink.finish(interrupted);
      const m = sink.manifest;
      if (!quiet && m) {
        io.stderr.write(`${io.stderr.isTTY ? '\n' : ''}recorded ${counted(m.framesRecorded, 'frame')} in ${counted(m.segments.length, 'segment')} to ${sink.dir} (${m.format})${m.stoppedReason ? `; stopped: ${m.stoppedReason}` : ''}\n`);
      }
    },
    async abort() {
      key.disable();
      await sink.abort?.();
    },
  };
}

export const recordExtension: CliExtension = {
  name: 'record',
  addOptions(cmd: Command) {
    cmd
      .option('--record [dir]', 'record per-frame depth (16-bit PNG, .npy, FFV1) to dir (default recordings/<input>-<time>/); put it after the input')
      .addOption(new Option('--record-format <format>', 'png16: depth/*.png; float32: raw model output as .npy; both; ffv1: one lossless 16-bit depth.mkv').choices([...RECORD_FORMATS]).default('png16'))
      .option('--record-max-gb <n>', 'stop recording (not the run) when the recording reaches n GB', gbArg)
      .option('--record-paused', 'set up the recording but start paused (press r, or the preview page\'s record button, to start)');
  },
  outputOptional(flags: Flags): boolean {
    return wantsRecording(flags);
  },
  async sinks(ctx: ExtensionContext): Promise<FrameSink[]> {
    const f = recordFlags(ctx.flags);
    if (!wantsRecording(ctx.flags)) return [];
    const all = ctx.flags as Record<string, unknown>;
    const quiet = all.quiet === true;
    const overwrite = all.overwrite === true;
    const dir = resolve(typeof f.record === 'string' ? f.record : defaultRecordingDir(ctx.inputLabel));
    const format = f.recordFormat ?? 'png16';
    if (!RECORD_FORMATS.includes(format)) {
      throw new DepthVideoError('USAGE', `--record-format ${String(format)}: use one of ${RECORD_FORMATS.join(', ')}`);
    }
    // Before the run: a bad dir fails here, not after the model loaded and decoding began.
    const { created } = await checkRecordingDir(dir, overwrite);
    const paused = f.recordPaused === true;
    // The automatic start at the first frame is not news; toggles are.
    let toggled = false;
    const toggleSub = ctx.control.recording.subscribe(() => { toggled = true; toggleSub.unsubscribe(); });
    const sink = recorderSink({
      dir,
      format,
      overwrite,
      maxBytes: f.recordMaxGb !== undefined ? Math.floor(f.recordMaxGb * 1e9) : undefined,
      paused,
      control: ctx.control,
      createdDir: created,
      onWarning: (line) => { if (!quiet) ctx.io.stderr.write(`warning: ${line}\n`); },
      onToggle: (on, index) => {
        if (!quiet && toggled) ctx.io.stderr.write(`${ctx.io.stderr.isTTY ? '\n' : ''}recording ${on ? 'started' : 'paused'} at frame ${index}\n`);
      },
    });
    return [withTerminalKey(sink, terminalToggle(ctx.control, !paused), ctx.io, quiet, paused)];
  },
};
