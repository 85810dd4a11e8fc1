import { closeSync, constants, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { openFifo } from '../ffmpeg/fifo.js';
import { builtScript } from '../paths.js';
import type { FromPipeWriter, PipeWriterInit, ToPipeWriter } from './pipe-writer-protocol.js';

/**
 * How the encoder's bytes reach ffmpeg's stdin. write() resolves once the
 * bytes are in the OS pipe (the caller may then reuse its buffers) and
 * rejects when ffmpeg no longer reads; end() closes the stream after the
 * writes queued so far.
 */
export interface EncoderFeed {
  /** What the child's stdin is given (spawn's stdio[0]). */
  readonly stdin: number | 'pipe';
  /** Called once ffmpeg has been spawned; `stdin` is its stdin stream when `this.stdin` was 'pipe'. */
  attach(stdin: Writable | null): void;
  write(parts: readonly Uint8Array[]): Promise<void>;
  end(): void;
  /** Stops at once, whatever is queued (ffmpeg has been killed, so blocked writes fail). */
  destroy(): void;
}

/**
 * The encoder feed: a writer thread on a FIFO where one can be made, else
 * node's own pipe ('pipe' forces it: tests, and DEPTH_VIDEO_PIPE_FEED=1).
 */
export function encoderFeed(kind: 'fifo' | 'pipe' = process.env.DEPTH_VIDEO_PIPE_FEED ? 'pipe' : 'fifo'): EncoderFeed {
  return (kind === 'fifo' ? FifoFeed.create() : null) ?? new StdinFeed();
}

/** Node's pipe to the child: written by the main thread's event loop. */
class StdinFeed implements EncoderFeed {
  readonly stdin = 'pipe' as const;
  private stream: Writable | null = null;

  attach(stdin: Writable | null): void {
    this.stream = stdin;
  }

  write(parts: readonly Uint8Array[]): Promise<void> {
    const s = this.stream!;
    return new Promise((resolve, reject) => {
      parts.forEach((p, i) => {
        if (i < parts.length - 1) s.write(p);
        else s.write(p, (err) => (err ? reject(err) : resolve()));
      });
    });
  }

  end(): void {
    this.stream?.end();
  }

  destroy(): void {
    this.stream?.destroy();
  }
}

/**
 * A FIFO between a writer thread (pipe-writer.ts, blocking writes) and
 * ffmpeg's stdin. Once openFifo has both ends open, the blocking read end
 * ffmpeg inherits opens at once too; the non-blocking read end and the path
 * go right away. The thread owns the write end and is its only writer, so
 * when it closes it ffmpeg reads end-of-file; when ffmpeg dies, writes fail
 * with EPIPE.
 */
class FifoFeed implements EncoderFeed {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextId = 0;
  private ended = false;
  private dead: Error | null = null;

  static create(): FifoFeed | null {
    const script = builtScript('sinks/pipe-writer.js');
    if (!script) return null;
    const fifo = openFifo('depth-video-feed-');
    if (!fifo) return null;
    let readEnd = -1;
    try {
      readEnd = openSync(fifo.path, constants.O_RDONLY);
      return new FifoFeed(script, fifo.writeEnd, readEnd);
    } catch {
      closeSync(fifo.writeEnd);
      if (readEnd >= 0) closeSync(readEnd);
      return null;
    } finally {
      closeSync(fifo.readEnd);
      fifo.remove();
    }
  }

  private constructor(script: string, writeEnd: number, readonly stdin: number) {
    // The thread closes an fd this thread opened: untracked, or node warns that it "closed but not opened" it.
    this.worker = new Worker(script, { workerData: { fd: writeEnd } satisfies PipeWriterInit, trackUnmanagedFds: false });
    this.worker.unref();
    this.worker.on('message', (m: FromPipeWriter) => this.done(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', () => this.fail(new Error('the encoder feed thread stopped')));
  }

  attach(): void {
    // ffmpeg has its copy of the read end; ours would keep the pipe readable after it exits.
    closeSync(this.stdin);
  }

  write(parts: readonly Uint8Array[]): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.ended) return Promise.reject(new Error('write after end'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Kept alive while it has work: an idle thread must not hold a finished program open.
      this.worker.ref();
      // Shared memory goes by reference. Anything else is copied once, its
      // own bytes only, and the copy moved: a message would clone the whole
      // buffer under a view (a small Buffer's is node's 8 KB pool).
      const moved: ArrayBuffer[] = [];
      const sent = parts.map((p) => {
        if (p.buffer instanceof SharedArrayBuffer) return p;
        const copy = p.slice();
        moved.push(copy.buffer);
        return copy;
      });
      this.worker.postMessage({ kind: 'write', id, parts: sent } satisfies ToPipeWriter, moved);
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.worker.postMessage({ kind: 'end' } satisfies ToPipeWriter);
  }

  destroy(): void {
    this.end();
  }

  private done(m: FromPipeWriter): void {
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.kind === 'written') p?.resolve();
    else p?.reject(new Error(m.message));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}
