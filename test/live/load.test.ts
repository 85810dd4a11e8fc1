import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { decodeFrameMessage } from '../../src/preview/protocol.js';
import { startLive, sleep } from './helpers.js';

/** A WebSocket client that completes the handshake and then never reads a byte. */
function stalledClient(port: number): Promise<Socket> {
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

describe('preview under load', () => {
  it('50 viewers keep getting frames next to one that never reads, and memory stays bounded', async () => {
    await ensureGeneratedModel('analytic');
    const run = await startLive({ model: 'analytic', graph: 'testsrc2=size=640x360:rate=30' });
    const port = run.server.port;
    const stalled = await stalledClient(port);
    const counts = new Array<number>(50).fill(0);
    const clients = await Promise.all(counts.map((_, i) => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('message', (d, bin) => {
        if (!bin) return;
        const { header, payload } = decodeFrameMessage(d as Buffer);
        // Whole parts only: a JPEG input picture, or one depth byte per pixel.
        const whole = header.part === 'input' ? payload[0] === 0xff && payload[1] === 0xd8 : payload.length === 640 * 360;
        if (header.width === 640 && whole) counts[i]!++;
      });
      ws.once('open', () => resolve(ws));
    })));
    expect(run.server.clientCount).toBe(51);
    await sleep(3000);
    const rssBefore = process.memoryUsage().rss;
    const before = [...counts];
    await sleep(5000);
    const rssAfter = process.memoryUsage().rss;
    const gained = counts.map((c, i) => c - before[i]!);
    // RSS of this whole process (pipeline, server, the 50 clients): the stalled
    // viewer may pin its socket buffers and two frames, never a growing queue.
    const MAX_RSS = 1024 * 1024 * 1024;
    const MAX_GROWTH = 150 * 1024 * 1024;
    for (const ws of clients) ws.close();
    stalled.destroy();
    const s = await run.stop();
    expect(Math.min(...gained)).toBeGreaterThanOrEqual(5);
    expect(rssAfter).toBeLessThan(MAX_RSS);
    expect(rssAfter - rssBefore).toBeLessThan(MAX_GROWTH);
    expect(s.frames.read).toBeGreaterThan(100);
    await sleep(100);
    expect(run.server.clientCount).toBe(0);
  });
});
