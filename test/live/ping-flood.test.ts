import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_QUEUE, startPreviewServer, type PreviewServer } from '../../src/preview/server.js';
import type { ClientMessage } from '../../src/preview/protocol.js';
import { liveBytes, MB } from '../helpers/memory.js';
import { stalledClient, sleep } from './helpers.js';

/** One client-to-server WebSocket frame (clients must mask), payload under 126 bytes. */
function clientFrame(opcode: number, payload: string): Buffer {
  const data = Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const out = Buffer.alloc(2 + 4 + data.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | data.length;
  mask.copy(out, 2);
  for (let i = 0; i < data.length; i++) out[6 + i] = data[i]! ^ mask[i % 4]!;
  return out;
}

/** Writes `frame` n times, as fast as the socket takes it. */
async function flood(sock: Socket, frame: Buffer, n: number): Promise<void> {
  const batch = Buffer.concat(Array.from({ length: 10_000 }, () => frame));
  for (let sent = 0; sent < n && !sock.destroyed; sent += 10_000) {
    if (!sock.write(batch)) await new Promise((r) => { sock.once('drain', r); sock.once('close', r); });
  }
}

/**
 * The case: 400,000 pings from a client that never reads moved the
 * server's RSS from 591 to 812 MB, because every ping queued a pong. The
 * first ~100,000 pongs (4 MiB) fit in the kernel's buffers; the rest would
 * queue here, at several hundred bytes each with their write requests.
 */
const PINGS = 400_000;

describe('a client that sends pings and never reads', () => {
  let server: PreviewServer;
  let marker: (() => void) | null = null;

  const start = async () => {
    server = await startPreviewServer({
      port: 0,
      heartbeatMs: 600_000,
      // The flood ends with one control message: once it arrives, every ping before it was handled.
      onMessage: (m: ClientMessage) => { if (m.type === 'schedule') marker?.(); },
    });
  };

  it('gets no pongs beyond its queue limit: the server does not grow, and nothing is left once it is gone', async () => {
    await start();
    try {
      const sock = await stalledClient(server.port);
      const before = liveBytes();
      const handled = new Promise<void>((r) => { marker = r; });
      await flood(sock, clientFrame(0x1, JSON.stringify({ type: 'ping', t: 123456.789 })), PINGS);
      sock.write(clientFrame(0x1, JSON.stringify({ type: 'schedule', mode: 'sync' })));
      await handled;
      const backlog = Math.max(...server.clientBacklogs());
      const grown = liveBytes() - before;
      console.log(`${PINGS} pings: backlog ${(backlog / 1024).toFixed(1)} KB, this process grew ${(grown / MB).toFixed(1)} MB`);
      expect(server.clientCount).toBe(1);
      // Pongs are ~36 bytes on the wire: the queue limit allows a handful.
      expect(backlog).toBeLessThanOrEqual((MAX_CLIENT_QUEUE + 2) * 64);
      expect(grown).toBeLessThan(4 * MB);
      sock.destroy();
      await sleep(200);
      expect(server.clientCount).toBe(0);
      expect(liveBytes() - before).toBeLessThan(2 * MB);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('WebSocket-level pings: the client is dropped once its pongs pile up', async () => {
    await start();
    try {
      const sock = await stalledClient(server.port);
      const before = liveBytes();
      await flood(sock, clientFrame(0x9, 'x'), PINGS);
      const t0 = Date.now();
      while (server.clientCount > 0 && Date.now() - t0 < 10_000) await sleep(50);
      expect(server.clientCount).toBe(0);
      expect(liveBytes() - before).toBeLessThan(4 * MB);
      sock.destroy();
    } finally {
      await server.close();
    }
  }, 120_000);
});
