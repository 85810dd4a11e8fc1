import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DepthVideoError, errorText } from '../errors.js';
import { packageRoot } from '../paths.js';
import { COLORMAP_NAMES, isColormapName } from '../render/colormap.js';
import { DEFAULT_UPLOAD_LIMIT, NOT_AN_IMAGE, sniffImage, type PhotoDepth } from './photo.js';
import { parseClientMessage, type ClientMessage, type HelloMessage, type ServerMessage } from './protocol.js';
import { DEFAULT_PREVIEW_HOST, DEFAULT_PREVIEW_PORT, isLoopback } from './address.js';

/** Frames a client may have in flight (sent, not yet handed to its socket) before it skips frames. */
export const MAX_CLIENT_QUEUE = 2;
/** Messages of any kind a client may have in flight: control messages and pongs are small, but a client that never reads must not queue them either. */
const MAX_CONTROL_QUEUE = MAX_CLIENT_QUEUE + 2;

export interface PreviewServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Binding anything but loopback exposes the camera to the network: only when the user asked. */
  readonly allowExternal?: boolean;
  /** Serves photo uploads; null turns photo mode off. */
  readonly photo?: PhotoDepth | null;
  readonly uploadLimit?: number;
  /** The greeting each client gets (current settings). */
  readonly hello?: () => HelloMessage;
  /** A valid control message from a page. */
  readonly onMessage?: (m: ClientMessage) => void;
  /** One-line notes (malformed messages, logged once). */
  readonly log?: (line: string) => void;
  /** Where index.html and app.js live (tests may point elsewhere). */
  readonly staticDir?: string;
  /** false: the server alone does not keep the process running (a failed run must still exit). */
  readonly keepAlive?: boolean;
  /** How often clients are pinged; one that has not answered the previous ping is dropped (default 15 s). */
  readonly heartbeatMs?: number;
}

export interface BroadcastResult {
  readonly sent: number;
  readonly skipped: number;
}

export interface PreviewServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly clientCount: number;
  /** Bytes queued in this process for each client (sent, not yet taken by its socket): what a slow viewer costs. */
  clientBacklogs(): number[];
  /**
   * Sends one encoded frame to every client that keeps up; never waits.
   * `yieldSlot` (camera pictures) leaves one of a client's slots free, so a
   * viewer that falls behind skips pictures before it skips depth.
   */
  broadcastFrame(msg: Buffer, opts?: { readonly yieldSlot?: boolean; readonly fine?: Buffer }): BroadcastResult;
  /** Clients with a 3D view open: the depth's sender makes `fine` (msg with fractions, depth-fine.ts) only when there are any. */
  readonly fineClients: number;
  broadcast(m: ServerMessage): void;
  close(): Promise<void>;
}

interface Client {
  readonly ws: WebSocket;
  pending: number;
  alive: boolean;
  /** Its 3D view is open: depth frames come with their fractions (depth-fine.ts). */
  fine: boolean;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const SVG = 'image/svg+xml';

/** three.js's ES module build, from node_modules: the page works offline, no CDN. */
function threeDir(): string {
  return dirname(createRequire(import.meta.url).resolve('three'));
}

/** The depth-to-3D module the PLY writer uses, as compiled (it imports nothing, so it runs in the browser as it is). */
function unprojectFile(): string {
  const here = fileURLToPath(new URL('../render/unproject.js', import.meta.url));
  return existsSync(here) ? here : join(packageRoot, 'dist', 'render', 'unproject.js');
}

/** The 3D views' finer depth (depth-fine.ts), as compiled: it imports nothing either. */
function depthFineFile(): string {
  const here = fileURLToPath(new URL('./depth-fine.js', import.meta.url));
  return existsSync(here) ? here : join(packageRoot, 'dist', 'preview', 'depth-fine.js');
}

/** What the server hands out by path: files of the page, plus the modules it imports from elsewhere. */
function staticFiles(staticDir: string): Record<string, { path: string; type: string; cache?: string }> {
  const page = (file: string, type: string) => ({ path: join(staticDir, file), type });
  const three = threeDir();
  // A package version's files never change: the browser may keep them a day.
  const vendor = (file: string) => ({ path: join(three, file), type: JS, cache: 'max-age=86400' });
  return {
    '/': page('index.html', HTML),
    '/index.html': page('index.html', HTML),
    '/app.js': page('app.js', JS),
    '/view3d.js': page('view3d.js', JS),
    '/style.css': page('style.css', 'text/css; charset=utf-8'),
    '/favicon.svg': page('favicon.svg', SVG),
    // Browsers ask for /favicon.ico whatever the page says; the same picture answers.
    '/favicon.ico': page('favicon.svg', SVG),
    '/lib/unproject.js': { path: unprojectFile(), type: JS },
    '/lib/depth-fine.js': { path: depthFineFile(), type: JS },
    '/vendor/three.module.js': vendor('three.module.js'),
    '/vendor/three.core.js': vendor('three.core.js'),
  };
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}

/**
 * Reads a request body into memory up to `limit` bytes. Past the limit the
 * rest is read and thrown away (so the browser gets the answer instead of a
 * reset connection), and a body far past it is cut off.
 */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer | null; size: number }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) parts.push(c);
      else {
        parts.length = 0;
        if (size > limit * 4) { req.destroy(); resolve({ body: null, size }); }
      }
    });
    req.on('end', () => resolve({ body: size <= limit ? Buffer.concat(parts) : null, size }));
    req.on('error', reject);
  });
}

/** Starts the preview's HTTP + WebSocket server; fails fast on a taken port or an unasked-for public address. */
export async function startPreviewServer(opts: PreviewServerOptions = {}): Promise<PreviewServer> {
  const host = opts.host ?? DEFAULT_PREVIEW_HOST;
  const wantPort = opts.port ?? DEFAULT_PREVIEW_PORT;
  if (!isLoopback(host) && !opts.allowExternal) {
    throw new DepthVideoError('USAGE', `refusing to serve the preview on ${host}: it would show the camera to the network; pass --host ${host} explicitly to allow it`);
  }
  const staticDir = opts.staticDir ?? join(packageRoot, 'src', 'preview', 'static');
  const files = staticFiles(staticDir);
  const limit = opts.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;
  const log = opts.log ?? (() => undefined);
  const logged = new Set<string>();
  const logOnce = (key: string, line: string) => {
    if (logged.has(key)) return;
    logged.add(key);
    log(line);
  };

  // Each waiting upload holds up to `limit` bytes: two at a time is plenty for one person.
  let photosInFlight = 0;
  const handlePhoto = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (photosInFlight >= 2) { req.resume(); sendJson(res, 503, { error: 'busy with other photos: try again in a moment' }); return; }
    photosInFlight++;
    try {
      await handlePhotoNow(req, res, url);
    } finally {
      photosInFlight--;
    }
  };
  const handlePhotoNow = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!opts.photo) { sendJson(res, 503, { error: 'photo mode is off in this run' }); return; }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      sendJson(res, 413, { error: `the file is ${mib(declared)}; photos may be at most ${mib(limit)}` });
      return;
    }
    const { body, size } = await readBody(req, limit);
    if (!body) { sendJson(res, 413, { error: `the file is ${mib(size)}; photos may be at most ${mib(limit)}` }); return; }
    if (!sniffImage(body)) {
      sendJson(res, 415, { error: NOT_AN_IMAGE });
      return;
    }
    const cm = url.searchParams.get('colormap') ?? 'inferno';
    try {
      const r = await opts.photo.process(body, {
        colormap: isColormapName(cm) ? cm : 'inferno',
        invert: url.searchParams.get('invert') === 'true',
        highContrast: url.searchParams.get('highContrast') === 'true',
      });
      sendJson(res, 200, {
        width: r.width, height: r.height, kind: r.kind, inferenceMs: r.inferenceMs, device: r.device, untrained: r.untrained,
        color: r.colorPng.toString('base64'), gray16: r.grayPng16.toString('base64'),
        grid: { width: r.grid.width, height: r.grid.height, indices: Buffer.from(r.grid.indices).toString('base64'), fractions: Buffer.from(r.grid.fractions).toString('base64') },
      });
    } catch (e) {
      sendJson(res, 422, { error: errorText(e) });
    }
  };

  /**
   * Who may talk to this server. Bound to loopback, only a page served by
   * this very server: the Host must be a loopback name (a DNS-rebinding page
   * arrives with its own host name), and a cross-site request must carry an
   * Origin equal to that host (another site open in the same browser must
   * not read the camera, steer or stop the run, or feed it uploads).
   */
  const allowed = (req: IncomingMessage, needOrigin: boolean): boolean => {
    const hostHeader = req.headers.host ?? '';
    if (!opts.allowExternal) {
      const name = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!(name === 'localhost' || isLoopback(name))) return false;
    }
    const origin = req.headers.origin;
    if (origin === undefined) return !needOrigin;
    try {
      return new URL(origin).host === hostHeader;
    } catch {
      return false; // "null" (sandboxed frames, file:// pages) and garbage
    }
  };

  const http = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'bad request path' });
      return;
    }
    if (!allowed(req, false)) {
      sendJson(res, 403, { error: 'forbidden: open the preview from its own address' });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/photo') {
      // Browsers send a cross-site octet-stream POST only after a CORS
      // preflight, which this server never grants.
      if (!String(req.headers['content-type'] ?? '').startsWith('application/octet-stream')) {
        req.resume();
        sendJson(res, 415, { error: 'send the photo as application/octet-stream' });
        return;
      }
      handlePhoto(req, res, url).catch((e: unknown) => { if (!res.headersSent) sendJson(res, 500, { error: errorText(e) }); });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/config') {
      sendJson(res, 200, { uploadLimitBytes: limit, colormaps: COLORMAP_NAMES, photo: !!opts.photo });
      return;
    }
    const entry = req.method === 'GET' || req.method === 'HEAD' ? files[url.pathname] : undefined;
    if (!entry) { sendJson(res, 404, { error: 'not found' }); return; }
    readFile(entry.path).then(
      (data) => {
        res.writeHead(200, { ...SECURITY_HEADERS, ...(entry.cache ? { 'cache-control': entry.cache } : {}), 'content-type': entry.type, 'content-length': data.length });
        res.end(req.method === 'HEAD' ? undefined : data);
      },
      () => sendJson(res, 500, { error: `${entry.path} is missing: reinstall depth-video (npm ci builds it)` }),
    );
  });

  // Control messages are tiny; a big one is garbage and closes that socket only.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Set<Client>();

  http.on('upgrade', (req, socket, head) => {
    let path = '';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // falls through to the 403 below
    }
    if (path !== '/ws' || !allowed(req, false)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const c: Client = { ws, pending: 0, alive: true, fine: false };
    clients.add(c);
    ws.on('pong', () => { c.alive = true; });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const m = isBinary ? null : parseClientMessage(data.toString());
      if (!m) { logOnce('garbage', 'preview: ignored a malformed message from a browser (further ones are ignored silently)'); return; }
      // A client that sends pings and never reads gets no pongs, rather than a growing queue of them.
      if (m.type === 'ping') { sendControl(c, JSON.stringify({ type: 'pong', t: m.t } satisfies ServerMessage)); return; }
      if (m.type === 'depth3d') { c.fine = m.on; return; }
      try { opts.onMessage?.(m); } catch (e) { logOnce(`handler:${errorText(e)}`, `preview: a control failed: ${errorText(e)}`); }
    });
    ws.on('error', (e) => { logOnce(`wserr:${e.message}`, `preview: dropped a client that sent invalid WebSocket data (${e.message})`); ws.terminate(); });
    ws.on('close', () => clients.delete(c));
    if (opts.hello) safeSend(c, JSON.stringify(opts.hello()));
  });

  // A client whose machine vanished never sends a close frame; pings find it.
  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) { c.ws.terminate(); clients.delete(c); continue; }
      c.alive = false;
      try { c.ws.ping(); } catch { /* closing already */ }
    }
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  function safeSend(c: Client, data: string | Buffer): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    c.pending++;
    c.ws.send(data, { binary: typeof data !== 'string' }, () => { c.pending--; });
    return true;
  }

  function sendControl(c: Client, text: string): void {
    if (c.pending < MAX_CONTROL_QUEUE) safeSend(c, text);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      http.off('listening', onListening);
      if (e.code === 'EADDRINUSE') {
        reject(new DepthVideoError('PORT_IN_USE', `port ${wantPort} on ${host} is already in use: pick another with --preview <port> (e.g. --preview ${wantPort + 1})`));
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
        reject(new DepthVideoError('USAGE', `cannot serve the preview on ${host}: no such address on this machine; use --host 127.0.0.1 or one of this machine's addresses`));
      } else if (e.code === 'EACCES') {
        reject(new DepthVideoError('PORT_IN_USE', `port ${wantPort} needs special rights: pick a port above 1023 with --preview <port>`));
      } else reject(e);
    };
    const onListening = () => { http.off('error', onError); resolve(); };
    http.once('error', onError);
    http.once('listening', onListening);
    http.listen(wantPort, host);
  });
  http.on('error', (e) => log(`preview: server error: ${e.message}`));
  if (opts.keepAlive === false) http.unref();

  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : wantPort;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closed = false;

  return {
    url: `http://${urlHost}:${port}/`,
    host,
    port,
    get clientCount() { return clients.size; },
    clientBacklogs: () => [...clients].map((c) => c.ws.bufferedAmount),
    broadcastFrame(msg: Buffer, o: { readonly yieldSlot?: boolean; readonly fine?: Buffer } = {}): BroadcastResult {
      const limit = o.yieldSlot ? MAX_CLIENT_QUEUE - 1 : MAX_CLIENT_QUEUE;
      let sent = 0;
      let skipped = 0;
      for (const c of clients) {
        const m = c.fine && o.fine ? o.fine : msg;
        // A slow viewer skips frames; nothing piles up for it beyond its socket buffer.
        if (c.ws.readyState !== WebSocket.OPEN || c.pending >= limit || c.ws.bufferedAmount > limit * m.length) {
          skipped++;
          continue;
        }
        safeSend(c, m);
        sent++;
      }
      return { sent, skipped };
    },
    get fineClients() {
      let n = 0;
      for (const c of clients) if (c.fine) n++;
      return n;
    },
    broadcast(m: ServerMessage) {
      const s = JSON.stringify(m);
      for (const c of clients) sendControl(c, s);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
      await new Promise<void>((r) => { http.close(() => r()); http.closeAllConnections(); });
      await opts.photo?.close();
    },
  };
}
