import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { packageRoot } from '../paths.js';
import { RunControl } from '../pipeline/control.js';
import { runPipeline } from '../pipeline/run.js';
import { encodePngRgb8, PhotoDepth } from '../preview/photo.js';
import { decodeFrameMessage } from '../preview/protocol.js';
import { startPreviewServer, type PreviewServer } from '../preview/server.js';
import { INPUT_BUDGET, previewSink } from '../preview/sink.js';
import { webcamSource } from '../sources/webcam.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Arrival { readonly t: number; readonly part: 'input' | 'depth'; readonly bytes: number }

/** A live lavfi camera into the preview (with photo mode), and one viewer in this process counting what arrives. */
async function liveWithViewer(size: string, model: string) {
  const control = new RunControl('async');
  const photo = new PhotoDepth({ model, allowDownload: false });
  const hub = previewSink({ control, photo, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true });
  const server: PreviewServer = await startPreviewServer({ port: 0, photo, hello: () => hub.hello(), onMessage: (m) => hub.onMessage(m) });
  hub.attach(server);
  const arrivals: Arrival[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.on('message', (d, bin) => {
    if (!bin) return;
    const buf = d as Buffer;
    arrivals.push({ t: performance.now(), part: decodeFrameMessage(buf).header.part, bytes: buf.length });
  });
  await new Promise((r) => ws.once('open', r));
  const source = await webcamSource({ device: `lavfi:testsrc2=size=${size}:rate=30` });
  const done = runPipeline({
    input: { kind: 'source', source, label: 'bench camera' }, output: null, model, sync: false, allowDownload: false, control, sinks: [hub],
    render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 },
  });
  const rate = (from: number, to: number, part: Arrival['part']) => {
    const a = arrivals.filter((x) => x.t >= from && x.t < to && x.part === part);
    return { perSecond: (a.length * 1000) / (to - from), mbPerSecond: (a.reduce((s, x) => s + x.bytes, 0) * 1000) / (to - from) / (1024 * 1024) };
  };
  const stop = async () => { control.stop.next(); await done; ws.close(); };
  return { server, rate, stop };
}

/** A real photo from ../shared/media when there is one, else a generated 2048x1365 picture. */
async function benchPhoto(): Promise<{ name: string; bytes: Buffer }> {
  const media = join(packageRoot, '..', 'shared', 'media');
  const jpg = existsSync(media) ? readdirSync(media).filter((f) => f.endsWith('.jpg')).sort()[0] : undefined;
  if (jpg) return { name: jpg, bytes: readFileSync(join(media, jpg)) };
  const w = 2048;
  const h = 1365;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill((i * 13) % 251, i * 3, i * 3 + 3);
  return { name: 'generated 2048x1365 PNG', bytes: await encodePngRgb8({ width: w, height: h, data }) };
}

/**
 * The live page's numbers: the input picture's rate and bandwidth per
 * viewer against its budget (640x360 and a 1080p camera, decimated to
 * 960x540), and the live depth rate before and while photos are processed.
 */
export async function livePageBench(out: (line: string) => void, model = 'dpt-tiny'): Promise<void> {
  const budgetMb = INPUT_BUDGET.maxBytesPerSecond / (1024 * 1024);
  for (const size of ['640x360', '1920x1080']) {
    const live = await liveWithViewer(size, model);
    await sleep(2000);
    const t0 = performance.now();
    await sleep(6000);
    const t1 = performance.now();
    const input = live.rate(t0, t1, 'input');
    const depth = live.rate(t0, t1, 'depth');
    await live.stop();
    out(`  ${size} camera (testsrc2, 30 fps): input ${input.perSecond.toFixed(1)} pictures/s, ${input.mbPerSecond.toFixed(2)} MB/s; depth ${depth.perSecond.toFixed(1)} maps/s, ${depth.mbPerSecond.toFixed(2)} MB/s`);
    out(`    target: input within ${INPUT_BUDGET.maxFps} pictures/s and ${budgetMb.toFixed(1)} MB/s per viewer: ${input.perSecond <= INPUT_BUDGET.maxFps * 1.05 && input.mbPerSecond <= budgetMb * 1.05 ? 'met' : 'NOT met'}`);
    if (size === '640x360') out(`    target: input at the camera's rate (>= 25 pictures/s, depth ${depth.perSecond.toFixed(1)}/s): ${input.perSecond >= 25 ? 'met' : 'NOT met'}`);
  }

  const photo = await benchPhoto();
  const live = await liveWithViewer('640x360', model);
  await sleep(2000);
  const t0 = performance.now();
  await sleep(5000);
  const t1 = performance.now();
  let photos = 0;
  while (performance.now() - t1 < 6000) {
    const res = await fetch(`${live.server.url}api/photo`, { method: 'POST', body: new Uint8Array(photo.bytes), headers: { 'content-type': 'application/octet-stream' } });
    if (res.status !== 200) throw new Error(`photo upload failed: ${res.status} ${await res.text()}`);
    photos++;
  }
  const t2 = performance.now();
  await sleep(4000);
  const t3 = performance.now();
  const before = live.rate(t0, t1, 'depth').perSecond;
  const during = live.rate(t1, t2, 'depth').perSecond;
  const after = live.rate(t2, t3, 'depth').perSecond;
  await live.stop();
  out(`  live depth with ${model}, 640x360: ${before.toFixed(1)} maps/s before, ${during.toFixed(1)} while ${photos} photos (${photo.name}) ran back to back, ${after.toFixed(1)} after`);
  out(`    target: live keeps >= 40% of its rate while photos run (they take turns on one model): ${(during / before * 100).toFixed(0)}% -> ${during >= 0.4 * before ? 'met' : 'NOT met'}`);
}
