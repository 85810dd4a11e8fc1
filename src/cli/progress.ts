import type { ProgressInfo } from '../pipeline/run.js';

function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** One progress line: frames done/total, fps, ETA (pure, for the bar and the plain lines). */
export function progressText(p: ProgressInfo, width = 24): string {
  const total = p.total && p.total >= p.done ? p.total : null;
  const eta = total && p.fps > 0 ? clock((total - p.done) / p.fps) : '--:--';
  const bar = total && width > 0 ? `[${'#'.repeat(Math.round((p.done / total) * width)).padEnd(width, '.')}] ` : '';
  return `${bar}${p.done}${total ? `/${total}` : ''} frames  ${p.fps.toFixed(1)} fps  ETA ${eta}`;
}

/**
 * A bar redrawn in place on a terminal; plain lines every few seconds when
 * stderr is a file or a pipe, so logs stay readable.
 */
export function progressPrinter(stream: NodeJS.WriteStream, quiet: boolean): { update(p: ProgressInfo): void; done(): void } {
  let last = 0;
  let drawn = false;
  const tty = stream.isTTY === true;
  return {
    update(p) {
      if (quiet) return;
      const now = performance.now();
      if (now - last < (tty ? 100 : 2000) && p.done !== p.total) return;
      last = now;
      if (tty) {
        stream.write(`\r${progressText(p)}\x1b[K`);
        drawn = true;
      } else stream.write(`progress: ${progressText(p, 0)}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
