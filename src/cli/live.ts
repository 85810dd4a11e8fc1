import { Option, type Command } from 'commander';
import { DepthVideoError } from '../errors.js';
import { PhotoDepth, DEFAULT_UPLOAD_LIMIT } from '../preview/photo.js';
import { DEFAULT_PREVIEW_HOST, DEFAULT_PREVIEW_PORT, isLoopback } from '../preview/address.js';
import type { PreviewServer } from '../preview/server.js';
import { previewSink } from '../preview/sink.js';
import { colormapTables, type RenderState } from '../preview/protocol.js';
import { COLORMAP_NAMES } from '../render/colormap.js';
import { nodeWebcamSource } from '../sources/node-webcam.js';
import { describeDevices, listWebcams, parseSize, TEST_WEBCAM, webcamSource } from '../sources/webcam.js';
import type { PipelineInput } from '../pipeline/run.js';
import type { FrameSink } from '../pipeline/types.js';
import { isGeneratedModelName } from '../inference/generate/recipes.js';
import type { CliExtension, ExtensionContext, Flags, RunOptions } from './extension.js';
import type { CliIO } from './io.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** --preview value: true (default port), a port string, false (--no-preview), undefined (not given). */
export function previewPort(v: unknown): number {
  if (typeof v !== 'string') return DEFAULT_PREVIEW_PORT;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new DepthVideoError('USAGE', `--preview ${v}: give a port number from 1 to 65535, e.g. --preview ${DEFAULT_PREVIEW_PORT}`);
  return n;
}

/** Whether this run serves the preview: by default with --webcam, with a file only when asked. */
export function previewWanted(flags: Flags): boolean {
  if (flags.preview === false) return false;
  return flags.preview !== undefined || flags.webcam !== undefined;
}

interface ServeOptions {
  readonly live: boolean;
  readonly hub?: ReturnType<typeof previewSink>;
  readonly photo: PhotoDepth;
  readonly keepAlive: boolean;
  readonly run: RunOptions;
}

/** Photos are inferred with the run's model, preprocessing and device: a live run's own session (PhotoDepth.share), or one like it. */
function photoDepth(run: RunOptions, io: CliIO, quiet: boolean, awaitRun: boolean): PhotoDepth {
  return new PhotoDepth({
    awaitRun,
    model: run.model,
    allowDownload: run.allowDownload ?? true,
    device: run.device,
    checkpoint: run.checkpoint,
    spec: run.spec,
    onWarning: (line) => { if (!quiet) io.stderr.write(`warning: photo mode: ${line}\n`); },
    onNote: (line) => { if (!quiet) io.stderr.write(`photo mode: ${line}\n`); },
  });
}

/** The page starts with the run's colours (preset and flags merged, as the output gets them). */
function pageRender(run: RunOptions): RenderState {
  const { colormap, invert, highContrast } = run.render;
  // The page is for looking at input and depth together; depth-only is a click away.
  return { colormap, invert, highContrast, layout: 'side-by-side' };
}

async function serve(flags: Flags, io: CliIO, o: ServeOptions): Promise<PreviewServer> {
  const host = str(flags.host) ?? DEFAULT_PREVIEW_HOST;
  const explicit = flags.host !== undefined;
  if (explicit && !isLoopback(host)) {
    io.stderr.write(`warning: the preview on ${host} can be opened by anyone who can reach this machine, and shows the camera\n`);
  }
  const quiet = flags.quiet === true;
  // Loaded here, not at start: file runs without a preview never need it.
  const { startPreviewServer } = await import('../preview/server.js');
  const server = await startPreviewServer({
    port: previewPort(flags.preview),
    host,
    allowExternal: explicit,
    photo: o.photo,
    uploadLimit: DEFAULT_UPLOAD_LIMIT,
    keepAlive: o.keepAlive,
    log: (line) => { if (!quiet) io.stderr.write(`${line}\n`); },
    hello: o.hub ? () => o.hub!.hello() : () => ({
      type: 'hello',
      live: false,
      source: null,
      model: o.run.model,
      // Before the first photo the model is not loaded; the generated ones are known by name.
      untrained: isGeneratedModelName(o.run.model),
      device: null,
      render: pageRender(o.run),
      schedule: 'async',
      recording: false,
      canRecord: false,
      colormaps: COLORMAP_NAMES,
      colormapTables: colormapTables(),
      uploadLimitBytes: DEFAULT_UPLOAD_LIMIT,
    }),
    onMessage: o.hub ? (m) => o.hub!.onMessage(m) : undefined,
  });
  io.stderr.write(`preview: ${server.url}${o.live ? '' : ' (photo mode; Ctrl-C ends)'}\n`);
  return server;
}

export const liveExtension: CliExtension = {
  name: 'live',

  addOptions(cmd: Command) {
    cmd
      .option('--webcam [device]', `capture a camera (/dev/video0, an index, a name), or a test source such as ${TEST_WEBCAM}`)
      .option('--webcam-size <WxH>', 'camera picture size, e.g. 1280x720')
      .option('--webcam-fps <n>', 'camera frame rate')
      .addOption(new Option('--webcam-backend <backend>', 'how to open the camera').choices(['ffmpeg', 'node-webcam']).default('ffmpeg'))
      .option('--list-webcams', 'list the cameras ffmpeg can open, then exit')
      .option('--preview [port]', `serve a live preview page (default with --webcam; port ${DEFAULT_PREVIEW_PORT})`)
      .option('--no-preview', 'no preview page')
      .option('--host <addr>', `address of the preview server (default ${DEFAULT_PREVIEW_HOST}; 0.0.0.0 exposes it to the network)`)
      .option('--photo-ui', 'serve only the photo page (drop an image, get its depth), no video');
  },

  async handle(flags: Flags, io: CliIO, run: RunOptions): Promise<number | null> {
    if (flags.listWebcams) {
      const devices = await listWebcams();
      if (!devices.length) io.stdout.write(`${describeDevices(devices)}\n`);
      for (const d of devices) io.stdout.write(d.id === d.name ? `${d.id}\n` : `${d.id}\t${d.name}\n`);
      return 0;
    }
    if (flags.photoUi) {
      const server = await serve(flags, io, { live: false, photo: photoDepth(run, io, flags.quiet === true, false), keepAlive: true, run });
      await new Promise<void>((resolve) => {
        const done = () => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      });
      await server.close();
      return 0;
    }
    return null;
  },

  async input(flags: Flags): Promise<PipelineInput | null> {
    if (flags.webcam === undefined || flags.webcam === false) return null;
    const device = str(flags.webcam);
    const size = str(flags.webcamSize) ? parseSize(str(flags.webcamSize)!) : undefined;
    let fps: number | undefined;
    if (flags.webcamFps !== undefined) {
      fps = Number(flags.webcamFps);
      if (!(fps > 0 && fps <= 240)) throw new DepthVideoError('USAGE', `--webcam-fps ${String(flags.webcamFps)}: give a rate from 1 to 240`);
    }
    if (flags.webcamBackend === 'node-webcam') {
      const source = await nodeWebcamSource({ device, size });
      return { kind: 'source', source, label: `camera ${device ?? 'default'} (node-webcam)` };
    }
    // Async runs keep dropped frames' pixels until shown, so they need more
    // slots; the pipeline caps them while the schedule is sync.
    const source = await webcamSource({ device, size, fps, maxInFlight: 32 });
    return { kind: 'source', source, label: device ?? 'camera' };
  },

  async sinks(ctx: ExtensionContext): Promise<FrameSink[]> {
    if (!previewWanted(ctx.flags)) return [];
    const photo = photoDepth(ctx.run, ctx.io, ctx.flags.quiet === true, true);
    const hub = previewSink({
      photo,
      control: ctx.control,
      render: pageRender(ctx.run),
      recorder: ctx.flags.record !== undefined || ctx.flags.recordPaused === true ? { recording: ctx.flags.recordPaused !== true } : null,
      // An output file's picture size is fixed when it starts.
      forwardLayout: ctx.flags.out === undefined,
      uploadLimit: DEFAULT_UPLOAD_LIMIT,
    });
    // The server must not keep the process alive if the run fails before it starts.
    const server = await serve(ctx.flags, ctx.io, { live: true, hub, photo, keepAlive: false, run: ctx.run });
    hub.attach(server);
    return [hub];
  },

  outputOptional(flags: Flags): boolean {
    return flags.webcam !== undefined && flags.webcam !== false;
  },
};
