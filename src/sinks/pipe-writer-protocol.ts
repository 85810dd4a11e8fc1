/** Shared between encoder-feed.ts (the encoder's side) and pipe-writer.ts (the thread). */

export interface PipeWriterInit {
  /** The write end of the FIFO ffmpeg reads as its stdin, blocking; the thread owns it and closes it. */
  readonly fd: number;
}

export type ToPipeWriter =
  /** Bytes to write, in order (shared memory is written where it lies; other buffers arrive as copies moved to the thread). */
  | { readonly kind: 'write'; readonly id: number; readonly parts: readonly Uint8Array[] }
  /** No more writes: close the pipe (ffmpeg then reads end-of-file) and stop. */
  | { readonly kind: 'end' };

export type FromPipeWriter =
  | { readonly kind: 'written'; readonly id: number }
  /** The write failed (ffmpeg gone: EPIPE); every later write fails the same way. */
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };
