import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RunControl } from '../../src/pipeline/control.js';
import type { PipelineContext } from '../../src/pipeline/types.js';
import type { HelloMessage } from '../../src/preview/protocol.js';
import { startPreviewServer } from '../../src/preview/server.js';
import { previewSink } from '../../src/preview/sink.js';

describe('the greeting of a page that connects before the model is loaded', () => {
  it('is repeated once the run starts, with the model and its untrained flag', async () => {
    const hub = previewSink({ control: new RunControl('async'), render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true });
    const server = await startPreviewServer({ port: 0, hello: () => hub.hello(), onMessage: (m) => hub.onMessage(m) });
    hub.attach(server);
    const hellos: HelloMessage[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    ws.on('message', (d, bin) => {
      const m = bin ? null : (JSON.parse(String(d)) as { type: string });
      if (m?.type === 'hello') hellos.push(m as HelloMessage);
    });
    try {
      const until = async (n: number) => {
        const end = Date.now() + 5000;
        while (hellos.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      };
      await until(1);
      expect(hellos[0]).toMatchObject({ model: null, untrained: false, source: null });
      const ctx = {
        source: { label: 'test camera', width: 32, height: 24, frameRate: null, timeBase: { num: 1, den: 1000 }, live: true },
        model: { label: 'dpt-tiny', untrained: true },
      } as unknown as PipelineContext;
      await hub.start!(ctx);
      await until(2);
      expect(hellos[1]).toMatchObject({ model: 'dpt-tiny', untrained: true, source: 'test camera' });
    } finally {
      ws.close();
      await server.close();
    }
  });
});
