import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DepthVideoError, errorText } from '../errors.js';

export interface DownloadOptions {
  /** Expected hex digest; null/undefined skips verification. */
  sha256?: string | null;
  /** Known size, used for progress when the server sends no length and to spot a finished partial. */
  expectedSize?: number;
  onProgress?: (done: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** Swappable for tests; defaults to the global fetch (which follows redirects to CDNs). */
  fetchImpl?: typeof fetch;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
  resumed: boolean;
}

export function partialPath(dest: string): string {
  return `${dest}.partial`;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Feeds bytes already on disk into the hash, so a resumed file is checked whole. */
async function hashPrefix(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/** Node's fetch hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The innermost reason fetch gives ("bad port", "getaddrinfo ENOTFOUND …"), not its bare "fetch failed". */
function failureText(e: unknown): string {
  const code = networkCode(e);
  if (code) return code;
  let cur: unknown = e;
  let text = errorText(e);
  for (let i = 0; i < 4 && cur instanceof Error && cur.cause !== undefined; i++) {
    cur = cur.cause;
    text = errorText(cur);
  }
  return text;
}

function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e instanceof Error && e.name === 'AbortError');
}

/** "bytes 100-199/200" → 100; undefined when absent or unparsable. */
function contentRangeStart(header: string | null): number | undefined {
  const m = header ? /^bytes\s+(\d+)-/i.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Streams `url` to `dest` through `dest.partial`, resuming a partial left by an
 * earlier attempt with a Range request, hashing the whole file and renaming
 * it into place only when complete (and matching `sha256` when given).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const doFetch = opts.fetchImpl ?? fetch;
  const partial = partialPath(dest);
  await mkdir(dirname(dest), { recursive: true });

  let start = await sizeOf(partial);
  if (opts.expectedSize !== undefined && start > opts.expectedSize) {
    await rm(partial, { force: true });
    start = 0;
  }

  const finish = async (resumed: boolean): Promise<DownloadResult> => {
    return verifyAndMove(url, partial, dest, await sha256File(partial), await sizeOf(partial), opts.sha256, resumed);
  };

  // A partial that already has every byte needs no request at all.
  if (start > 0 && opts.expectedSize !== undefined && start === opts.expectedSize) return finish(true);

  let res: Response;
  try {
    res = await doFetch(url, {
      headers: { 'user-agent': 'depth-video', ...(start > 0 ? { range: `bytes=${start}-` } : {}) },
      redirect: 'follow',
      signal: opts.signal,
    });
  } catch (e) {
    if (isAbort(e, opts.signal)) {
      throw new DepthVideoError('INTERRUPTED', `download of ${url} was cancelled before it started`, { file: dest, cause: e });
    }
    const code = failureText(e);
    throw new DepthVideoError(
      'DOWNLOAD',
      `cannot reach ${url} (${code}); download the file by hand and save it as ${dest}`,
      { file: dest, cause: e },
    );
  }

  if (res.status === 416 && start > 0) {
    // The server has nothing past our partial: either it is complete, or stale. Hashing tells.
    await res.body?.cancel();
    if (opts.sha256 && (await sha256File(partial)) === opts.sha256.toLowerCase()) return finish(true);
    await rm(partial, { force: true });
    return downloadFile(url, dest, opts);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new DepthVideoError(
      'DOWNLOAD',
      `download failed: HTTP ${res.status} for ${url}; check the URL in models/manifest.json or save the file by hand as ${dest}`,
      { file: dest },
    );
  }

  let resumed = false;
  if (start > 0 && res.status === 206 && contentRangeStart(res.headers.get('content-range')) === start) {
    resumed = true;
  } else if (res.status === 206) {
    // A range we did not ask for: neither the whole file nor our continuation.
    await res.body?.cancel();
    await rm(partial, { force: true });
    throw new DepthVideoError('DOWNLOAD', `download failed: ${url} answered with a different byte range than asked (${res.headers.get('content-range') ?? 'none'}); the partial file was removed, run the command again`, { file: dest });
  } else {
    // 200 means the server ignored the Range header: what comes is the whole file.
    start = 0;
  }

  const hash = createHash('sha256');
  if (resumed) await hashPrefix(hash, partial);
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? start + length : opts.expectedSize;

  let done = start;
  opts.onProgress?.(done, total);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      done += chunk.length;
      opts.onProgress?.(done, total);
      cb(null, chunk);
    },
  });

  if (!res.body) throw new DepthVideoError('DOWNLOAD', `empty response for ${url}; try again later`, { file: dest });
  try {
    await pipeline(
      Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(partial, { flags: resumed ? 'a' : 'w' }),
      { signal: opts.signal },
    );
  } catch (e) {
    const kept = await sizeOf(partial);
    const of = total !== undefined ? ` of ${total}` : '';
    if (isAbort(e, opts.signal)) {
      throw new DepthVideoError('INTERRUPTED', `download of ${url} was cancelled at ${kept}${of} bytes; ${partial} is kept and the next attempt resumes from it`, { file: partial, cause: e });
    }
    throw new DepthVideoError(
      'DOWNLOAD',
      `transfer of ${url} was interrupted at ${kept}${of} bytes (${failureText(e)}); ${partial} is kept, run the command again to resume`,
      { file: partial, cause: e },
    );
  }

  if (total !== undefined && done < total) {
    throw new DepthVideoError(
      'DOWNLOAD',
      `transfer of ${url} ended early at ${done} of ${total} bytes; ${partial} is kept, run the command again to resume`,
      { file: partial },
    );
  }
  return verifyAndMove(url, partial, dest, hash.digest('hex'), done, opts.sha256, resumed);
}

async function verifyAndMove(
  url: string,
  partial: string,
  dest: string,
  digest: string,
  bytes: number,
  expected: string | null | undefined,
  resumed: boolean,
): Promise<DownloadResult> {
  if (expected && digest !== expected.toLowerCase()) {
    // A wrong file must not be resumed from either, so it goes entirely.
    await rm(partial, { force: true });
    throw new DepthVideoError(
      'CHECKSUM',
      `checksum mismatch for ${url}: expected sha256 ${expected.toLowerCase()}, found ${digest}; the download was deleted, try again or check models/manifest.json`,
      { file: dest },
    );
  }
  await rename(partial, dest);
  return { path: dest, sha256: digest, bytes, resumed };
}

/** sha256 of a file on disk, streamed so multi-GB models do not fill memory. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await hashPrefix(hash, file);
  return hash.digest('hex');
}
