/**
 * Download progress for the CLI: a redrawn bar on a terminal, otherwise a
 * plain line every 10% so logs and CI output stay readable.
 */
export interface ProgressReporter {
  update(done: number, total: number | undefined): void;
  done(): void;
}

/**
 * Decimal units with 3 significant digits, as Hugging Face and GitHub list
 * files, so a size printed here reads the same as on the download page.
 */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 9.995 ? 2 : v < 99.95 ? 1 : 0)} ${units[i]}`;
}

export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressReporter {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let lastDecile = -1;
  let drew = false;
  return {
    update(done, total) {
      if (tty) {
        // Redrawing on every chunk costs more than the download on a fast link.
        const t = now();
        if (t - lastDraw < 100 && total !== undefined && done < total) return;
        lastDraw = t;
        const width = 30;
        const frac = total ? Math.min(1, done / total) : 0;
        const bar = total ? '#'.repeat(Math.round(frac * width)).padEnd(width, '.') : ''.padEnd(width, '?');
        const pct = total ? `${(frac * 100).toFixed(0).padStart(3)}%` : '    ';
        const size = total ? `${formatBytes(done)} / ${formatBytes(total)}` : formatBytes(done);
        stream.write(`\r${label} [${bar}] ${pct} ${size}\x1b[K`);
        drew = true;
        return;
      }
      if (!total) return;
      const decile = Math.floor((done / total) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${label}: ${decile * 10}% (${formatBytes(done)} of ${formatBytes(total)})\n`);
      }
    },
    done() {
      if (tty && drew) stream.write('\n');
    },
  };
}
