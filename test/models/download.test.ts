import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, partialPath } from '../../src/models/download.js';
import { caught, startBlobServer } from './helpers.js';

const blob = randomBytes(300_000);
const blobSha = createHash('sha256').update(blob).digest('hex');
let server: Awaited<ReturnType<typeof startBlobServer>>;
let dir: string;

beforeAll(async () => {
  server = await startBlobServer(blob, 100_000);
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'dv-dl-'));
  return dir;
}

describe('downloadFile', () => {
  it('downloads, verifies the sha256 and reports progress', async () => {
    const dest = join(tmp(), 'm.onnx');
    const progress: number[] = [];
    const r = await downloadFile(`${server.base}/blob`, dest, { sha256: blobSha, onProgress: (d) => progress.push(d) });
    expect(r.sha256).toBe(blobSha);
    expect(r.bytes).toBe(blob.length);
    expect(r.resumed).toBe(false);
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(existsSync(partialPath(dest))).toBe(false);
    expect(progress.at(-1)).toBe(blob.length);
  });

  it('follows redirects', async () => {
    const dest = join(tmp(), 'm.onnx');
    const r = await downloadFile(`${server.base}/redirect`, dest, { sha256: blobSha });
    expect(r.sha256).toBe(blobSha);
  });

  it('a wrong checksum fails and leaves neither the model nor a partial', async () => {
    const dest = join(tmp(), 'm.onnx');
    const e = await caught(downloadFile(`${server.base}/blob`, dest, { sha256: 'ab'.repeat(32) }));
    expect(e.code).toBe('CHECKSUM');
    expect(e.message).toContain('ab'.repeat(32));
    expect(e.message).toContain(blobSha);
    expect(e.message).toContain(`${server.base}/blob`);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(partialPath(dest))).toBe(false);
  });

  it('an interrupted transfer keeps the partial and the next attempt resumes with Range', async () => {
    const dest = join(tmp(), 'm.onnx');
    const url = `${server.base}/cut`;
    const e = await caught(downloadFile(url, dest, { sha256: blobSha }));
    expect(e.code).toBe('DOWNLOAD');
    expect(e.message).toContain('interrupted');
    expect(e.message).toContain('.partial');
    const kept = statSync(partialPath(dest)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);
    expect(existsSync(dest)).toBe(false);

    const r = await downloadFile(url, dest, { sha256: blobSha });
    const cutRequests = server.seen.filter((s) => s.url === '/cut');
    expect(cutRequests.at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(r.resumed).toBe(true);
    expect(r.sha256).toBe(blobSha);
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(existsSync(partialPath(dest))).toBe(false);
  });

  it('HTTP 404 names the status and the URL', async () => {
    const dest = join(tmp(), 'm.onnx');
    const e = await caught(downloadFile(`${server.base}/nope.onnx`, dest));
    expect(e.code).toBe('DOWNLOAD');
    expect(e.message).toContain(`HTTP 404 for ${server.base}/nope.onnx`);
    expect(existsSync(dest)).toBe(false);
  });

  it('connection refused names the URL and where to put the file by hand', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dest = join(tmp(), 'm.onnx');
    const url = `http://127.0.0.1:${port}/m.onnx`;
    const e = await caught(downloadFile(url, dest));
    expect(e.code).toBe('DOWNLOAD');
    expect(e.message).toContain(url);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.message).toContain(`save it as ${dest}`);
    expect(e.message).not.toContain('\n');
  });

  it('a server that ignores Range (200) restarts from zero', async () => {
    const d = tmp();
    const dest = join(d, 'm.onnx');
    // A stale partial with wrong bytes: a 200 must overwrite it, not append.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(partialPath(dest), Buffer.alloc(1000, 7));
    const plain = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      res.end(blob);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const r = await downloadFile(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/x`, dest, { sha256: blobSha });
      expect(r.resumed).toBe(false);
      expect(r.sha256).toBe(blobSha);
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });
});
