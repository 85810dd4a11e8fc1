/** Shared between raw-frames.ts (the source's side) and fifo-reader.ts (the worker). */

/** Entries of the shared Int32Array that steers the reader thread. */
export const CTL = {
  /** Bumped (and notified) by the source whenever anything below changes: the reader sleeps on it. */
  signal: 0,
  /** Bytes of one frame; 0 until ffmpeg's log has said the size. */
  frameBytes: 1,
  /** Frames with an index below this may be read. */
  limit: 2,
  /** 1: stop reading. */
  stop: 3,
  /** 1 while the reader is (about to be) asleep: only then does a change need a notify, a system call. */
  sleeping: 4,
  /** From here, one entry per slot: 1 while filled or held by the pipeline, 0 when free. */
  slots: 5,
} as const;

export interface FifoReaderInit {
  readonly path: string;
  readonly ctl: Int32Array;
  readonly maxSlots: number;
}

export type FromFifoReader =
  /** The FIFO is open on the reader's side: the source's own ends can go. */
  | { readonly kind: 'opened' }
  /** A new slot (sent once, before its first frame). */
  | { readonly kind: 'slot'; readonly slot: number; readonly buffer: SharedArrayBuffer }
  /** Slot `slot` holds the next frame, complete; `at`: performance.timeOrigin + now() when it was. */
  | { readonly kind: 'frame'; readonly slot: number; readonly at: number }
  /** End of the output; bytes of an incomplete last frame, and a read error if one ended it. */
  | { readonly kind: 'end'; readonly partialBytes: number; readonly error: string | null };
