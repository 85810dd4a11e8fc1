import { connect, type Socket } from 'node:net';
import type { Browser } from 'playwright-core';
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
export async function startLive(opts: { model: string; graph?: string; uploadLimit?: number; photoModel?: string; sync?: boolean; heartbeatMs?: number; wrapInfer?: PipelineOptions['wrapInfer']; recordButton?: boolean }): Promise<LiveRun> {
  const control = new RunControl(opts.sync ? 'sync' : 'async');
  const logs: string[] = [];
  const photo = opts.photoModel ? new PhotoDepth({ model: opts.photoModel, allowDownload: false }) : null;
  const hub = previewSink({ control, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true, uploadLimit: opts.uploadLimit, photo,
    // The page's record button, with nothing behind it (no recorder sink).
    recorder: opts.recordButton ? { recording: false } : null });
  const server = await startPreviewServer({
    port: 0,
    photo,
    uploadLimit: opts.uploadLimit,
    heartbeatMs: opts.heartbeatMs,
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
    sync: opts.sync ?? false,
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

/** Debian's Chromium, driven by playwright-core (.ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium as the browser tests drive it. WebGL (the page's 3D
 * view) runs on ANGLE's SwiftShader, software GL, on machines with a GPU and
 * without one alike; Chromium 137+ wants --enable-unsafe-swiftshader for it.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
}

/** A WebSocket client that completes the handshake on /ws and then never reads a byte (its socket is paused). */
export function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      sock.once('data', (d) => {
        if (!String(d).startsWith('HTTP/1.1 101')) reject(new Error(`handshake failed: ${String(d)}`));
        sock.pause();
        resolve(sock);
      });
    });
    sock.on('error', reject);
  });
}
