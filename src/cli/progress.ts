import type { BatchProgress } from '../batch/run.js';
import type { ProgressInfo } from '../pipeline/run.js';
import { counted } from '../count.js';

function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

function bar(fraction: number, width: number): string {
  return width > 0 ? `[${'#'.repeat(Math.round(Math.min(1, fraction) * width)).padEnd(width, '.')}] ` : '';
}

/** "5 frames", "1 frame", "3/10 frames", "1/1 frame": with a total the noun agrees with it. */
export function framesDone(done: number, total: number | null | undefined, noun = 'frame'): string {
  return total ? `${done}/${counted(total, noun)}` : counted(done, noun);
}

/** One progress line: frames done/total, fps, ETA (pure, for the bar and the plain lines). */
export function progressText(p: ProgressInfo, width = 24): string {
  const total = p.total && p.total >= p.done ? p.total : null;
  const eta = total && p.fps > 0 ? clock((total - p.done) / p.fps) : '--:--';
  return `${total ? bar(p.done / total, width) : ''}${framesDone(p.done, total)}  ${p.fps.toFixed(1)} fps  ETA ${eta}`;
}

/**
 * A batch's line: files and frames, the ETA from the frames still expected.
 * The bar follows frames (files differ in length); without any stated
 * duration it follows files.
 */
export function batchProgressText(p: BatchProgress, width = 24): string {
  const total = p.frames && p.frames >= p.framesDone ? p.frames : null;
  const eta = total && p.fps > 0 ? clock((total - p.framesDone) / p.fps) : '--:--';
  const fraction = total ? p.framesDone / total : p.files ? p.filesDone / p.files : 0;
  return `${bar(fraction, width)}${framesDone(p.filesDone, p.files, 'file')}  ${framesDone(p.framesDone, total)}  ${p.fps.toFixed(1)} fps  ETA ${eta}`;
}

export interface StatusLine {
  /** Redraws the status (at most every 100 ms on a terminal, 2 s in a log); `text` gets the bar width. */
  update(text: (barWidth: number) => string, force?: boolean): void;
  /** Prints a line of its own above the status. */
  print(line: string): void;
  done(): void;
}

/**
 * A line redrawn in place on a terminal; plain lines every few seconds when
 * stderr is a file or a pipe, so logs stay readable.
 */
export function statusLine(stream: NodeJS.WriteStream, quiet: boolean): StatusLine {
  let last = 0;
  let drawn = false;
  const tty = stream.isTTY === true;
  return {
    update(text, force = false) {
      if (quiet) return;
      const now = performance.now();
      if (now - last < (tty ? 100 : 2000) && !force) return;
      last = now;
      if (tty) {
        stream.write(`\r${text(24)}\x1b[K`);
        drawn = true;
      } else stream.write(`progress: ${text(0)}\n`);
    },
    print(line) {
      stream.write(drawn ? `\r\x1b[K${line}\n` : `${line}\n`);
      // On a terminal the status comes back at the next update; a log keeps its pace.
      if (drawn) last = 0;
      drawn = false;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/** The single-file progress bar. */
export function progressPrinter(stream: NodeJS.WriteStream, quiet: boolean): { update(p: ProgressInfo): void; done(): void } {
  const line = statusLine(stream, quiet);
  return {
    update: (p) => line.update((w) => progressText(p, w), p.done === p.total),
    done: () => line.done(),
  };
}
