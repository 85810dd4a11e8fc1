/**
 * The FIFO reader thread (see FifoReader in raw-frames.ts): blocking reads
 * from ffmpeg's rawvideo output straight into shared frame slots.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CTL, type FifoReaderInit, type FromFifoReader } from './fifo-reader-protocol.js';

const { path, ctl, maxSlots } = workerData as FifoReaderInit;
const port = parentPort!;
const slots: Uint8Array[] = [];
const post = (m: FromFifoReader) => port.postMessage(m);

/**
 * Sleeps until the source changes something; false once it asks to stop.
 * `sleeping` is raised before the signal is read, so a change made after
 * that read is either seen by the check below or notified.
 */
function waitFor(ready: () => boolean): boolean {
  for (;;) {
    Atomics.store(ctl, CTL.sleeping, 1);
    const seen = Atomics.load(ctl, CTL.signal);
    if (Atomics.load(ctl, CTL.stop) || ready()) {
      Atomics.store(ctl, CTL.sleeping, 0);
      return !Atomics.load(ctl, CTL.stop);
    }
    Atomics.wait(ctl, CTL.signal, seen);
  }
}

/** A free slot, marked taken (a new one while fewer than maxSlots exist); -1 when none. */
function takeSlot(bytes: number): number {
  for (let i = 0; i < slots.length; i++) {
    if (Atomics.compareExchange(ctl, CTL.slots + i, 0, 1) === 0) return i;
  }
  if (slots.length >= maxSlots) return -1;
  const buffer = new SharedArrayBuffer(bytes);
  slots.push(new Uint8Array(buffer));
  Atomics.store(ctl, CTL.slots + slots.length - 1, 1);
  post({ kind: 'slot', slot: slots.length - 1, buffer });
  return slots.length - 1;
}

function run(): { partialBytes: number; error: string | null } {
  const fd = openSync(path, 'r');
  post({ kind: 'opened' });
  try {
    if (!waitFor(() => Atomics.load(ctl, CTL.frameBytes) > 0)) return { partialBytes: 0, error: null };
    const bytes = Atomics.load(ctl, CTL.frameBytes);
    for (let index = 0; ; index++) {
      let slot = -1;
      if (!waitFor(() => index < Atomics.load(ctl, CTL.limit) && (slot = takeSlot(bytes)) >= 0)) return { partialBytes: 0, error: null };
      const dst = slots[slot]!;
      let filled = 0;
      while (filled < bytes) {
        const n = readSync(fd, dst, filled, bytes - filled, null);
        if (n === 0) {
          Atomics.store(ctl, CTL.slots + slot, 0);
          return { partialBytes: filled, error: null };
        }
        filled += n;
      }
      post({ kind: 'frame', slot, at: performance.timeOrigin + performance.now() });
    }
  } finally {
    closeSync(fd);
  }
}

let result: { partialBytes: number; error: string | null };
try {
  result = run();
} catch (e) {
  result = { partialBytes: 0, error: e instanceof Error ? e.message : String(e) };
}
post({ kind: 'end', ...result });
