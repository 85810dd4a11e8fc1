import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ffmpegPath } from '../ffmpeg/binary.js';
import type { FrameImage, YuvColour } from '../types.js';

const SOI0 = 0xff;
const SOI1 = 0xd8;
const EOI1 = 0xd9;

/**
 * Splits a stream of concatenated JPEGs at their end markers. ffmpeg's mjpeg
 * encoder writes no embedded thumbnails and byte-stuffs 0xFF in entropy data,
 * so FF D9 only ever appears as the end of a picture.
 */
export class JpegSplitter {
  private parts: Buffer[] = [];
  private prevFF = false;

  push(chunk: Buffer, onJpeg: (jpeg: Buffer) => void): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.prevFF && b === EOI1) {
        this.parts.push(chunk.subarray(start, i + 1));
        const jpeg = Buffer.concat(this.parts);
        this.parts = [];
        start = i + 1;
        this.prevFF = false;
        if (jpeg.length >= 4 && jpeg[0] === SOI0 && jpeg[1] === SOI1) onJpeg(jpeg);
        continue;
      }
      this.prevFF = b === 0xff;
    }
    if (start < chunk.length) this.parts.push(Buffer.from(chunk.subarray(start)));
  }
}

export interface JpegEncoderOptions {
  /** ffmpeg's mjpeg -q:v, 2 (best) .. 31; 6 keeps 640x360 pictures near 40 KB. */
  readonly quality?: number;
  /** Pictures in the encoder at once; more are refused so the caller skips them. */
  readonly maxPending?: number;
}

/**
 * One persistent ffmpeg mjpeg process: raw RGB or yuv420p in, one JPEG per picture out,
 * in order. Starting a process per frame would cost more than the encoding;
 * a size change restarts it. `encode` never waits: it refuses a picture while
 * the encoder is behind, and the preview just skips that frame.
 */
export class JpegEncoder<M> {
  private proc: ChildProcessByStdio<Writable, Readable, null> | null = null;
  private size = '';
  private outSize = '';
  private input = '';
  private queue: M[] = [];
  private splitter = new JpegSplitter();
  private closed = false;
  private readonly quality: number;
  private readonly maxPending: number;
  /** Set when ffmpeg could not be run; the preview then only sends stats. */
  failure: string | null = null;

  constructor(private readonly onJpeg: (jpeg: Buffer, meta: M) => void, opts: JpegEncoderOptions = {}) {
    this.quality = opts.quality ?? 6;
    this.maxPending = opts.maxPending ?? 2;
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues a picture (RGB24, or yuv420p in the given colour), scaled down
   * to `out` when given; false when the encoder is busy (the caller drops
   * it). `data` must stay untouched until its JPEG comes back.
   */
  encode(picture: FrameImage, meta: M, out?: { readonly width: number; readonly height: number }): boolean {
    if (this.closed || this.failure) return false;
    const { width, height } = picture;
    const size = `${width}x${height}`;
    const input = picture.format === 'yuv420p' ? `${picture.colour.matrix}/${picture.colour.range}` : 'rgb24';
    const outSize = out && (out.width !== width || out.height !== height) ? `${out.width}:${out.height}` : '';
    if (this.proc && (size !== this.size || outSize !== this.outSize || input !== this.input)) this.restart();
    if (this.queue.length >= this.maxPending) return false;
    if (!this.proc) this.start(size, outSize, picture.format === 'yuv420p' ? picture.colour : null);
    this.queue.push(meta);
    this.proc!.stdin.write(picture.data);
    return true;
  }

  private start(size: string, outSize: string, colour: YuvColour | null): void {
    this.size = size;
    this.outSize = outSize;
    this.input = colour ? `${colour.matrix}/${colour.range}` : 'rgb24';
    // JPEG (JFIF) is BT.601 full range. swscale changes the range between
    // yuv420p and yuvj420p but never the matrix, so a frame in another matrix
    // goes through RGB, read with its own.
    const otherMatrix = colour !== null && colour.matrix !== 'bt601';
    const scale = [...(outSize ? [outSize, 'flags=area'] : []), ...(otherMatrix ? [`in_color_matrix=${colour.matrix}`] : [])];
    const filters = [...(scale.length ? [`scale=${scale.join(':')}`] : []), ...(otherMatrix ? ['format=rgb24'] : [])];
    this.splitter = new JpegSplitter();
    const proc = spawn(ffmpegPath(), [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      // Probing would hold back the first pictures; the format is fully given.
      // Decoder and encoder threads each hold a picture back until the next
      // one arrives (measured: one frame of lag, and the last frame lost), so
      // both run single-threaded; one picture at a time is the point here.
      '-threads', '1', '-probesize', '32', '-analyzeduration', '0',
      '-f', 'rawvideo', '-pix_fmt', colour ? (colour.range === 'full' ? 'yuvj420p' : 'yuv420p') : 'rgb24', '-s', size, '-framerate', '30', '-i', 'pipe:0',
      // Area averaging: a decimated picture without the aliasing of dropped pixels.
      ...(filters.length ? ['-vf', filters.join(',')] : []),
      '-an', '-vsync', '0', '-threads', '1', '-c:v', 'mjpeg', '-q:v', String(this.quality), '-pix_fmt', 'yuvj420p',
      '-f', 'mjpeg', '-flush_packets', '1', 'pipe:1',
    ], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.proc = proc;
    proc.stdin.on('error', () => undefined); // EPIPE when it dies; 'close' reports it
    proc.stdout.on('data', (chunk: Buffer) => {
      if (this.proc !== proc) return;
      this.splitter.push(chunk, (jpeg) => {
        const meta = this.queue.shift();
        if (meta !== undefined) this.onJpeg(jpeg, meta);
      });
    });
    proc.on('error', (e) => { this.failure = `cannot run ffmpeg for the preview: ${e.message}`; });
    proc.on('close', () => {
      if (this.proc === proc) {
        this.proc = null;
        this.queue = [];
      }
    });
  }

  private restart(): void {
    const p = this.proc;
    this.proc = null;
    this.queue = [];
    p?.stdin.end();
    p?.kill('SIGKILL');
  }

  close(): void {
    this.closed = true;
    this.restart();
  }
}
