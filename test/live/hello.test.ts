import { describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { WebSocket } from 'ws';
import type { PipelineContext } from '../../src/pipeline/types.js';
import { RunControl } from '../../src/pipeline/control.js';
import type { HelloMessage } from '../../src/preview/protocol.js';
import { startPreviewServer } from '../../src/preview/server.js';
import { previewSink } from '../../src/preview/sink.js';
import { startCli, stop } from './helpers.js';

describe('the page greeting', () => {
  it('a viewer that connected while the model was loading gets the full hello (model, device) once the run starts', async () => {
    const hub = previewSink({ control: new RunControl('async'), render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth' }, forwardLayout: false });
    const server = await startPreviewServer({ port: 0, hello: () => hub.hello() });
    hub.attach(server);
    const hellos: HelloMessage[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    ws.on('message', (d, bin) => { if (!bin) hellos.push(JSON.parse(String(d)) as HelloMessage); });
    try {
      await new Promise((r) => ws.once('open', r));
      await expect.poll(() => hellos.length).toBe(1);
      expect(hellos[0]).toMatchObject({ type: 'hello', model: null, device: null, untrained: false });
      // Only the fields the hello reads.
      const ctx = { source: { label: 'test camera' }, model: { label: 'dpt-tiny', untrained: true, deviceLabel: 'webgpu (llvmpipe, software, on the CPU)' } } as unknown as PipelineContext;
      await hub.start!(ctx);
      await expect.poll(() => hellos.length).toBe(2);
      expect(hellos[1]).toMatchObject({ type: 'hello', source: 'test camera', model: 'dpt-tiny', untrained: true, device: 'webgpu (llvmpipe, software, on the CPU)' });
    } finally {
      ws.close();
      await server.close();
    }
  });
});

/** The first message a page gets from a CLI run's preview. */
async function firstHello(url: string): Promise<HelloMessage> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`);
  try {
    return await new Promise<HelloMessage>((resolve, reject) => {
      ws.on('message', (d, bin) => { if (!bin) resolve(JSON.parse(String(d)) as HelloMessage); });
      ws.on('error', reject);
    });
  } finally {
    ws.close();
  }
}

describe('the page starts from the run\'s own render settings', () => {
  // matte: gray, as the output file gets it; the page used to read the raw flags and show inferno.
  it('a live run with --pipeline matte', async () => {
    await ensureGeneratedModel('analytic');
    const run = await startCli(['--webcam', 'lavfi:testsrc2=size=160x90:rate=5', '--model', 'analytic', '--pipeline', 'matte']);
    try {
      expect((await firstHello(run.url)).render).toMatchObject({ colormap: 'gray', invert: false, highContrast: false });
    } finally {
      await stop(run.proc);
    }
  });

  it('--photo-ui with --pipeline matte and --invert', async () => {
    const run = await startCli(['--photo-ui', '--model', 'analytic', '--pipeline', 'matte', '--invert']);
    try {
      expect((await firstHello(run.url)).render).toMatchObject({ colormap: 'gray', invert: true, highContrast: false });
    } finally {
      await stop(run.proc);
    }
  });
});
