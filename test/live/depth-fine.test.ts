import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { colormapIndices } from '../../src/render/colormap.js';
import { mulberry32 } from '../../src/inference/generate/random.js';
import { depthFractions, fineIndexValues, meshStep } from '../../src/preview/depth-fine.js';
import { startPreviewServer } from '../../src/preview/server.js';

/** The index rule's w (clamped, NaN -> 0, inverted first) times 255: what index and fraction together stand for. */
function scaled(v: number, invert: boolean): number {
  let w = invert ? 1 - v : v;
  w = w > 0 ? (w < 1 ? w : 1) : 0;
  return w * 255;
}

describe('the 3D views\' finer depth (indices and their fractions)', () => {
  it('gives 255 w within 1/512 at the mesh pixels and writes nothing elsewhere', () => {
    const r = mulberry32(9);
    for (const [w, h] of [[960, 540], [37, 11], [320, 4]] as const) {
      const n = w * h;
      const values = Float32Array.from({ length: n }, (_, i) => {
        // Boundaries of index levels, the ends, out of range and NaN among random values.
        const k = i % 7;
        return k === 0 ? Math.fround((Math.floor(r() * 255) + 0.5) / 255) : k === 1 ? 0 : k === 2 ? 1 : k === 3 ? -0.2 : k === 4 ? 1.3 : k === 5 ? Number.NaN : r();
      });
      for (const invert of [false, true]) {
        const indices = colormapIndices(values, invert);
        const step = meshStep(w);
        const cols = Math.ceil(w / step);
        const rows = Math.ceil(h / step);
        const fr = depthFractions(values, indices, w, h, step, invert, new Uint8Array(cols * rows));
        const fine = fineIndexValues(indices, fr, w, h, step, new Float32Array(n).fill(Number.NaN));
        let worst = 0;
        let others = 0;
        for (let i = 0; i < n; i++) {
          const x = i % w;
          const y = Math.floor(i / w);
          if (x % step === 0 && y % step === 0) worst = Math.max(worst, Math.abs(fine[i]! - scaled(values[i]!, invert)));
          else if (!Number.isNaN(fine[i]!)) others++;
        }
        expect(worst, `${w}x${h} invert ${invert}`).toBeLessThanOrEqual(1 / 512 + 1e-4);
        expect(others).toBe(0);
      }
    }
    expect([meshStep(320), meshStep(321), meshStep(960)]).toEqual([1, 2, 3]);
  });
});

describe('preview server: finer depth only for viewers with a 3D view open', () => {
  it('sends the fine message to those viewers and the plain one to the rest, and counts them', async () => {
    const s = await startPreviewServer({ port: 0, log: () => {} });
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
      const got: Buffer[] = [];
      ws.on('message', (d: Buffer, binary: boolean) => { if (binary) got.push(d); });
      await new Promise((res) => ws.once('open', res));
      return { ws, got };
    };
    const a = await open();
    const b = await open();
    try {
      await expect.poll(() => s.clientCount).toBe(2);
      expect(s.fineClients).toBe(0);
      a.ws.send(JSON.stringify({ type: 'depth3d', on: true }));
      await expect.poll(() => s.fineClients).toBe(1);
      const plain = Buffer.from('plain');
      const fine = Buffer.from('fine');
      expect(s.broadcastFrame(plain, { fine }).sent).toBe(2);
      await expect.poll(() => a.got.length + b.got.length).toBe(2);
      expect([a.got[0]!.toString(), b.got[0]!.toString()]).toEqual(['fine', 'plain']);
      // Closed again: the plain message, as everyone else.
      a.ws.send(JSON.stringify({ type: 'depth3d', on: false }));
      await expect.poll(() => s.fineClients).toBe(0);
      s.broadcastFrame(plain, { fine });
      await expect.poll(() => a.got.length).toBe(2);
      expect(a.got[1]!.toString()).toBe('plain');
    } finally {
      a.ws.close();
      b.ws.close();
      await s.close();
    }
  });
});
