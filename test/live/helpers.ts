import { RunControl } from '../../src/pipeline/control.js';
import { runPipeline, type PipelineOptions, type RunSummary } from '../../src/pipeline/run.js';
import { PhotoDepth } from '../../src/preview/photo.js';
import { startPreviewServer, type PreviewServer } from '../../src/preview/server.js';
import { previewSink } from '../../src/preview/sink.js';
import { webcamSource } from '../../src/sources/webcam.js';

export interface LiveRun {
  readonly server: PreviewServer;
  readonly control: RunControl;
  readonly done: Promise<RunSummary>;
  readonly logs: string[];
  stop(): Promise<RunSummary>;
}

/** A live run in this process: lavfi camera → model → preview on an ephemeral port. */
export async function startLive(opts: { model: string; graph?: string; uploadLimit?: number; photoModel?: string; wrapInfer?: PipelineOptions['wrapInfer']; recordButton?: boolean }): Promise<LiveRun> {
  const control = new RunControl('async');
  const logs: string[] = [];
  const photo = opts.photoModel ? new PhotoDepth(opts.photoModel, false) : null;
  const hub = previewSink({ control, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true, uploadLimit: opts.uploadLimit, photo,
    // The page's record button, with nothing behind it (no recorder sink).
    recorder: opts.recordButton ? { recording: false } : null });
  const server = await startPreviewServer({
    port: 0,
    photo,
    uploadLimit: opts.uploadLimit,
    hello: () => hub.hello(),
    onMessage: (m) => hub.onMessage(m),
    log: (l) => logs.push(l),
  });
  hub.attach(server);
  const source = await webcamSource({ device: `lavfi:${opts.graph ?? 'testsrc2=size=320x180:rate=30'}` });
  const done = runPipeline({
    input: { kind: 'source', source, label: 'test camera' },
    output: null,
    model: opts.model,
    sync: false,
    render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 15 },
    allowDownload: false,
    threads: 1,
    control,
    sinks: [hub],
    wrapInfer: opts.wrapInfer,
  });
  done.catch(() => undefined);
  return { server, control, done, logs, stop: () => { control.stop.next(); return done; } };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
