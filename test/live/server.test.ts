import { connect } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { decodePng16 } from '../../src/sinks/recorder/png16.js';
import { encodePngRgb8, NOT_AN_IMAGE, PhotoDepth, sniffImage } from '../../src/preview/photo.js';
import { JpegSplitter } from '../../src/preview/jpeg-encoder.js';
import { parseClientMessage, type ClientMessage } from '../../src/preview/protocol.js';
import { COLORMAP_NAMES } from '../../src/render/colormap.js';
import { startPreviewServer } from '../../src/preview/server.js';
import { describeDevices, parseDeviceList, webcamInputArgs, webcamSource } from '../../src/sources/webcam.js';
import { stalledClient } from './helpers.js';

describe('preview server binding', () => {
  it('refuses a non-loopback address unless asked', async () => {
    await expect(startPreviewServer({ port: 0, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('--host 0.0.0.0') });
    const s = await startPreviewServer({ port: 0, host: '0.0.0.0', allowExternal: true });
    expect(s.port).toBeGreaterThan(0);
    await s.close();
  });

  it('names the taken port and suggests --preview', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startPreviewServer({ port })).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringMatching(new RegExp(`port ${port}.*--preview <port>`)) });
    } finally {
      blocker.close();
    }
  });
});

describe('preview socket', () => {
  it('ignores garbage, logs it once, and keeps serving valid controls', async () => {
    const logs: string[] = [];
    const got: ClientMessage[] = [];
    const s = await startPreviewServer({ port: 0, log: (l) => logs.push(l), onMessage: (m) => got.push(m) });
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await new Promise((r) => ws.once('open', r));
    ws.send('not json {');
    ws.send(Buffer.from([1, 2, 3]));
    ws.send(JSON.stringify({ type: 'render', patch: { colormap: 'rainbow-of-doom' } }));
    ws.send(JSON.stringify({ type: 'render', patch: { colormap: 'viridis' } }));
    const pong = await new Promise<string>((r) => { ws.on('message', (d) => r(String(d))); ws.send(JSON.stringify({ type: 'ping', t: 42 })); });
    expect(JSON.parse(pong)).toEqual({ type: 'pong', t: 42 });
    expect(got).toEqual([{ type: 'render', patch: { colormap: 'viridis' } }]);
    expect(logs.filter((l) => l.includes('malformed'))).toHaveLength(1);
    // A message past the size limit closes that socket only.
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(200_000));
    expect(await closed).toBe(1009);
    expect(s.clientCount).toBe(0);
    const again = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await new Promise((r) => again.once('open', r));
    expect(s.clientCount).toBe(1);
    again.close();
    await s.close();
  });

  it('a viewer that falls behind skips camera pictures before it skips depth', async () => {
    const s = await startPreviewServer({ port: 0, log: () => {} });
    const sock = await stalledClient(s.port);
    try {
      await expect.poll(() => s.clientCount).toBe(1);
      // Far larger than a loopback socket buffer, so a message stays queued
      // in this process while the viewer reads nothing.
      const big = Buffer.alloc(32 << 20, 7);
      const picture = () => s.broadcastFrame(big, { yieldSlot: true }).sent;
      const depth = () => s.broadcastFrame(big).sent;
      expect(picture()).toBe(1);
      // One slot is left for depth: the next picture waits, the depth goes.
      expect(picture()).toBe(0);
      expect(depth()).toBe(1);
      // Both slots taken: now everything is skipped.
      expect(depth()).toBe(0);
      expect(picture()).toBe(0);
    } finally {
      sock.destroy();
      await s.close();
    }
  });

  it('rejects a socket opened from another site', async () => {
    const s = await startPreviewServer({ port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`, { origin: 'http://evil.example' });
    const err = await new Promise<Error>((r) => ws.once('error', r));
    expect(err.message).toMatch(/403/);
    await s.close();
  });

  it('survives a bad request path and refuses null origins and rebound host names', async () => {
    const s = await startPreviewServer({ port: 0 });
    const raw = (lines: string[]) => new Promise<string>((resolve) => {
      const sock = connect(s.port, '127.0.0.1', () => sock.write(lines.join('\r\n') + '\r\n\r\n'));
      let got = '';
      sock.on('data', (d) => { got += d.toString(); });
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
      setTimeout(() => sock.destroy(), 1000);
    });
    expect(await raw(['GET // HTTP/1.1', `Host: 127.0.0.1:${s.port}`, 'Connection: close'])).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = (host: string, origin: string) => raw(['GET /ws HTTP/1.1', `Host: ${host}`, `Origin: ${origin}`, 'Connection: Upgrade', 'Upgrade: websocket',
      'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    expect(await upgrade(`127.0.0.1:${s.port}`, 'null')).toMatch(/^HTTP\/1\.1 403/);
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host and Origin agree.
    expect(await upgrade(`evil.example:${s.port}`, `http://evil.example:${s.port}`)).toMatch(/^HTTP\/1\.1 403/);
    expect(await upgrade(`127.0.0.1:${s.port}`, `http://127.0.0.1:${s.port}`)).toMatch(/^HTTP\/1\.1 101/);
    // The server is still up after all that.
    expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(200);
    await s.close();
  });

  it('parses only well-formed control messages', () => {
    expect(parseClientMessage('{"type":"schedule","mode":"sync"}')).toEqual({ type: 'schedule', mode: 'sync' });
    expect(parseClientMessage('{"type":"schedule","mode":"fast"}')).toBeNull();
    expect(parseClientMessage('{"type":"record","on":"yes"}')).toBeNull();
    expect(parseClientMessage('[]')).toBeNull();
    expect(parseClientMessage('{"type":"render","patch":{"layout":"overlay","invert":true}}')).toEqual({ type: 'render', patch: { layout: 'overlay', invert: true } });
    // Exactly the tool's colour tables: every one of them, nothing else.
    for (const name of COLORMAP_NAMES) expect(parseClientMessage(JSON.stringify({ type: 'render', patch: { colormap: name } }))).toEqual({ type: 'render', patch: { colormap: name } });
    expect(parseClientMessage('{"type":"render","patch":{"colormap":"jet"}}')).toBeNull();
  });
});

describe('photo uploads', () => {
  const gradient = (w: number, h: number) => {
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) data.fill((i % w) * 4, i * 3, i * 3 + 3);
    return encodePngRgb8({ width: w, height: h, data });
  };

  it('a library caller gets the same one line for a file that is not a picture, before any model loads', async () => {
    const photos = new PhotoDepth({ model: 'no-such-model', allowDownload: false });
    await expect(photos.process(new TextEncoder().encode('plain text, not a picture'), { colormap: 'gray', invert: false, highContrast: false }))
      .rejects.toMatchObject({ code: 'INPUT_NOT_MEDIA', message: NOT_AN_IMAGE });
    await photos.close();
  });

  it('checks size and content, and turns an image into colour and 16-bit PNGs of the same size', async () => {
    await ensureGeneratedModel('analytic');
    const s = await startPreviewServer({ port: 0, uploadLimit: 64 * 1024, photo: new PhotoDepth({ model: 'analytic', allowDownload: false }) });
    const post = (body: Uint8Array) => fetch(`http://127.0.0.1:${s.port}/api/photo?colormap=gray`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    try {
      const big = await post(new Uint8Array(100 * 1024));
      expect(big.status).toBe(413);
      expect((await big.json()).error).toMatch(/at most 0\.1 MiB|at most 64/);
      const text = await post(new TextEncoder().encode('#!/bin/sh\necho this is not a picture, whatever its name says\n'));
      expect(text.status).toBe(415);
      expect((await text.json()).error).toMatch(/not an image/);
      // A form post (what another site could send without a preflight) is refused.
      const form = await fetch(`http://127.0.0.1:${s.port}/api/photo`, { method: 'POST', body: await gradient(60, 30), headers: { 'content-type': 'text/plain' } });
      expect(form.status).toBe(415);
      const ok = await post(await gradient(60, 30));
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { width: number; height: number; color: string; gray16: string };
      expect([body.width, body.height]).toEqual([60, 30]);
      const g = decodePng16(Buffer.from(body.gray16, 'base64'));
      expect([g.width, g.height]).toEqual([60, 30]);
      // The analytic model's depth is the pixel brightness: it rises left to right.
      expect(g.data[59]!).toBeGreaterThan(g.data[0]! + 30000);
      expect(sniffImage(Buffer.from(body.color, 'base64'))).toBe('png');
    } finally {
      await s.close();
    }
  });

  it('recognises images by their first bytes only', () => {
    const pad = (b: number[]) => Uint8Array.from([...b, ...new Array(16).fill(0)]);
    expect(sniffImage(pad([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImage(pad([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffImage(pad([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50]))).toBe('webp');
    expect(sniffImage(pad([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x41, 0x56, 0x45]))).toBeNull(); // a WAV
    expect(sniffImage(new TextEncoder().encode('<html><body>hello</body></html>'))).toBeNull();
  });
});

describe('JPEG stream splitting', () => {
  it('cuts concatenated JPEGs at their end markers across chunk borders', () => {
    const a = Buffer.from([0xff, 0xd8, 1, 0xff, 0x00, 2, 0xff, 0xd9]);
    const b = Buffer.from([0xff, 0xd8, 3, 4, 0xff, 0xd9]);
    const all = Buffer.concat([a, b]);
    const out: Buffer[] = [];
    const sp = new JpegSplitter();
    sp.push(all.subarray(0, 7), (j) => out.push(j)); // splits between 0xFF and 0xD9
    sp.push(all.subarray(7), (j) => out.push(j));
    expect(out.map((j) => [...j])).toEqual([[...a], [...b]]);
  });
});

describe('webcam devices', () => {
  it('builds device arguments per platform', () => {
    expect(webcamInputArgs('0', { platform: 'linux', size: { width: 1280, height: 720 }, fps: 30 })).toEqual(['-f', 'v4l2', '-video_size', '1280x720', '-framerate', '30', '-i', '/dev/video0']);
    expect(webcamInputArgs('FaceTime HD Camera', { platform: 'darwin' })).toEqual(['-f', 'avfoundation', '-framerate', '30', '-i', 'FaceTime HD Camera:none']);
    expect(webcamInputArgs('USB Cam', { platform: 'win32' })).toEqual(['-f', 'dshow', '-i', 'video=USB Cam']);
    expect(webcamInputArgs('lavfi:testsrc2=size=640x360:rate=30', { platform: 'linux' })).toEqual(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30']);
  });

  it('reads ffmpeg device listings', () => {
    const mac = '[AVFoundation input device @ 0x7f] AVFoundation video devices:\n[AVFoundation input device @ 0x7f] [0] FaceTime HD Camera\n[AVFoundation input device @ 0x7f] [1] Capture screen 0\n[AVFoundation input device @ 0x7f] AVFoundation audio devices:\n[AVFoundation input device @ 0x7f] [0] Built-in Microphone\n';
    expect(parseDeviceList(mac, 'darwin')).toEqual([{ id: '0', name: 'FaceTime HD Camera' }, { id: '1', name: 'Capture screen 0' }]);
    const win = '[dshow @ 0x1] DirectShow video devices (some may be both video and audio devices)\n[dshow @ 0x1]  "Integrated Camera"\n[dshow @ 0x1]     Alternative name "@device_pnp_\\\\?\\usb"\n[dshow @ 0x1] DirectShow audio devices\n[dshow @ 0x1]  "Microphone (Realtek)"\n';
    expect(parseDeviceList(win, 'win32')).toEqual([{ id: 'Integrated Camera', name: 'Integrated Camera' }]);
  });

  it('a missing camera gives one line listing what there is', async () => {
    await expect(webcamSource({ device: '/dev/video97', platform: 'linux' })).rejects.toMatchObject({ code: 'WEBCAM', message: expect.stringMatching(/^no camera \/dev\/video97: (available: |no cameras were found)/) });
    expect(describeDevices([{ id: '/dev/video0', name: 'UVC Camera' }])).toBe('available: /dev/video0 (UVC Camera)');
  });
});
