import { closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { openFifo, type OpenFifo } from '../ffmpeg/fifo.js';
import { builtScript } from '../paths.js';
import { CTL, type FromFifoReader, type FifoReaderInit } from './fifo-reader-protocol.js';

/**
 * How decoded frames get from ffmpeg's rawvideo output into frame slots
 * (SharedArrayBuffers the other threads read without a copy). The source
 * (ffmpeg-source.ts) keeps everything else: pts, damage, pacing, the
 * frames-alive accounting; a reader only fills slots in order, as far as
 * `allow` lets it, and gives a slot back on `release`.
 */
export interface RawFrameReader {
  /** What ffmpeg's stdout is in spawn's stdio: a pipe to read, or the write end of the reader's FIFO. */
  readonly stdout: 'pipe' | number;
  /** After spawning: the pipe (stdout: 'pipe' only); the spawner's copy of a FIFO end may be closed now. */
  attach(stdout: Readable | null): void;
  /** The frame size became known (from ffmpeg's log): filling can start. */
  setFrameBytes(bytes: number): void;
  /** Frames with an index below `limit` may be read (the backpressure: reading stops at it). */
  allow(limit: number): void;
  /** The slot of a frame is free again. */
  release(slot: number): void;
  /** No more frames are wanted: stop reading and free what can be freed. ffmpeg is killed by the caller. */
  close(): void;
}

export interface RawFrameEvents {
  /** A whole frame: its bytes (valid until released) and when it was read (performance.now() of this thread). */
  frame(data: Uint8Array, slot: number, readAt: number): void;
  /** The output ended (ffmpeg closed it); `partialBytes` of an incomplete last frame were dropped. */
  end(partialBytes: number, error: string | null): void;
}

export interface RawFrameReaderOptions {
  /** At most this many slots exist at once (the FIFO reader's control array has room for this many). */
  readonly maxSlots: number;
  /** 'pipe' forces the stream reader (tests; the fallback where a FIFO cannot be made). */
  readonly kind?: 'fifo' | 'pipe';
}

/**
 * The reader for this platform: a FIFO read by a worker thread straight into
 * the slots where FIFOs exist (Linux, macOS), else ffmpeg's stdout pipe read
 * on this thread. DEPTH_VIDEO_PIPE_READER=1 forces the pipe (tests, and a
 * way out should a system's FIFOs misbehave).
 */
export function rawFrameReader(events: RawFrameEvents, opts: RawFrameReaderOptions): RawFrameReader {
  const kind = opts.kind ?? (process.env.DEPTH_VIDEO_PIPE_READER ? 'pipe' : 'fifo');
  if (kind === 'fifo' && process.platform !== 'win32') {
    const fifo = FifoReader.create(events, opts.maxSlots);
    if (fifo) return fifo;
  }
  return new PipeReader(events);
}

/**
 * The portable reader: ffmpeg's stdout as a Node stream on this thread. Each
 * chunk (64 KB) is a new Buffer, copied into the slot being filled; reading
 * pauses the stream when `allow` says so, and the pipe's own flow control
 * then stops the decoder.
 */
class PipeReader implements RawFrameReader {
  readonly stdout = 'pipe' as const;
  private stream: Readable | null = null;
  private frameBytes = 0;
  private readonly early: Buffer[] = [];
  private readonly slots: Uint8Array[] = [];
  private readonly free: number[] = [];
  private current = -1;
  private filled = 0;
  private read = 0;
  private limit = 0;
  private closed = false;

  constructor(private readonly events: RawFrameEvents) {}

  attach(stdout: Readable | null): void {
    this.stream = stdout!;
    this.stream.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      if (!this.frameBytes) this.early.push(chunk);
      else this.take(chunk);
    });
    // 'close' rather than 'end': it also comes when the process is killed.
    this.stream.on('close', () => {
      if (this.closed) return;
      this.events.end(this.current >= 0 ? this.filled : 0, null);
    });
    this.flow();
  }

  setFrameBytes(bytes: number): void {
    this.frameBytes = bytes;
    for (const c of this.early.splice(0)) this.take(c);
  }

  allow(limit: number): void {
    this.limit = limit;
    this.flow();
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  close(): void {
    this.closed = true;
    this.stream?.destroy();
  }

  private flow(): void {
    if (!this.stream || this.closed) return;
    if (this.read < this.limit) this.stream.resume();
    else this.stream.pause();
  }

  private take(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.current < 0) {
        this.current = this.free.pop() ?? this.slots.length;
        // Shared memory: the inference worker reads the pixels without a copy.
        if (this.current === this.slots.length) this.slots.push(new Uint8Array(new SharedArrayBuffer(this.frameBytes)));
        this.filled = 0;
      }
      const slot = this.slots[this.current]!;
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      slot.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        const s = this.current;
        this.current = -1;
        this.read++;
        this.events.frame(slot, s, performance.now());
      }
    }
    this.flow();
  }
}

/**
 * ffmpeg writes into a named pipe; a worker thread reads it with blocking
 * reads straight into the slots: no Buffer per chunk, no copy on this thread,
 * nothing for the garbage collector. The worker only starts a frame when
 * `allow` permits it and a slot is free; otherwise it sleeps on the shared
 * control array, the FIFO fills up and ffmpeg blocks, as with a pipe.
 *
 * Opening without ever blocking this thread: the FIFO is opened here for
 * reading (non-blocking, which always succeeds) so that opening it for
 * writing succeeds at once too; that write end becomes ffmpeg's stdout. The
 * worker then opens its own blocking read end, which returns at once since a
 * writer exists, and only then are this thread's ends closed and the FIFO
 * unlinked. From then on ffmpeg is the only writer: when it exits, however
 * it exits, the worker reads end-of-file.
 */
class FifoReader implements RawFrameReader {
  private readonly ctl: Int32Array;
  private readonly slots: Uint8Array[] = [];
  private worker: Worker | null = null;
  private ends: number[];
  private closed = false;
  private ended = false;

  static create(events: RawFrameEvents, maxSlots: number): FifoReader | null {
    const script = builtScript('sources/fifo-reader.js');
    if (!script) return null;
    const fifo = openFifo('depth-video-fifo-');
    if (!fifo) return null;
    try {
      return new FifoReader(events, maxSlots, script, fifo);
    } catch {
      closeSync(fifo.readEnd);
      closeSync(fifo.writeEnd);
      fifo.remove();
      return null;
    }
  }

  private constructor(
    private readonly events: RawFrameEvents,
    maxSlots: number,
    script: string,
    private readonly fifo: OpenFifo,
  ) {
    this.ends = [fifo.readEnd, fifo.writeEnd];
    this.ctl = new Int32Array(new SharedArrayBuffer((CTL.slots + maxSlots) * 4));
    const init: FifoReaderInit = { path: fifo.path, ctl: this.ctl, maxSlots };
    const w = new Worker(script, { workerData: init });
    this.worker = w;
    w.on('message', (m: FromFifoReader) => this.onMessage(m));
    w.on('error', (e) => this.finish(0, `the frame reader thread failed: ${e.message}`));
    w.on('exit', () => this.finish(0, this.closed ? null : 'the frame reader thread stopped'));
  }

  get stdout(): number {
    return this.ends[1]!;
  }

  attach(): void {
    // ffmpeg holds its own copy of the write end; ours stays open until the worker has opened the FIFO.
  }

  setFrameBytes(bytes: number): void {
    Atomics.store(this.ctl, CTL.frameBytes, bytes);
    this.wake();
  }

  allow(limit: number): void {
    if (Atomics.exchange(this.ctl, CTL.limit, limit) !== limit) this.wake();
  }

  release(slot: number): void {
    Atomics.store(this.ctl, CTL.slots + slot, 0);
    this.wake();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, CTL.stop, 1);
    this.wake();
    // Our ends are not dropped here but on 'opened' (or the thread's end): a
    // worker that had found the FIFO but not yet opened it would otherwise
    // open it with no writer left, and a blocking open then never returns,
    // keeping the process alive. With our write end held it opens, sees
    // `stop`, and ends.
  }

  private wake(): void {
    Atomics.add(this.ctl, CTL.signal, 1);
    if (Atomics.load(this.ctl, CTL.sleeping)) Atomics.notify(this.ctl, CTL.signal);
  }

  private dropEnds(): void {
    for (const fd of this.ends.splice(0)) closeSync(fd);
    this.fifo.remove();
  }

  private onMessage(m: FromFifoReader): void {
    switch (m.kind) {
      case 'opened':
        this.dropEnds();
        return;
      case 'slot':
        this.slots[m.slot] = new Uint8Array(m.buffer);
        return;
      case 'frame':
        if (!this.closed) this.events.frame(this.slots[m.slot]!, m.slot, m.at - performance.timeOrigin);
        return;
      case 'end':
        this.finish(m.partialBytes, m.error);
        return;
    }
  }

  private finish(partialBytes: number, error: string | null): void {
    if (this.ended) return;
    this.ended = true;
    this.dropEnds();
    this.worker?.unref();
    this.worker = null;
    if (!this.closed) this.events.end(partialBytes, error);
  }
}
