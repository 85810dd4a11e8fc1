import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PipelineContext } from '../../src/pipeline/types.js';
import { RunControl } from '../../src/pipeline/control.js';
import type { HelloMessage } from '../../src/preview/protocol.js';
import { startPreviewServer } from '../../src/preview/server.js';
import { previewSink } from '../../src/preview/sink.js';

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
