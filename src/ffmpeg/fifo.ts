import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A named pipe in a private temporary folder, for a thread that talks to
 * ffmpeg with blocking reads or writes (node's own pipes are non-blocking
 * and serviced by the main thread's event loop). null where mkfifo is
 * missing or fails (Windows): callers then use ordinary pipes.
 */
export function makeFifo(prefix: string): { readonly path: string; remove(): void } | null {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const path = join(dir, 'fifo');
    if (spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' }).status !== 0) throw new Error('mkfifo failed');
    const made = dir;
    return { path, remove: () => rmSync(made, { recursive: true, force: true }) };
  } catch {
    if (dir) rmSync(dir, { recursive: true, force: true });
    return null;
  }
}
