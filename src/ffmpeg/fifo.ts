import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A named pipe with both ends open (see openFifo). */
export interface OpenFifo {
  readonly path: string;
  /** A non-blocking read end: it let the write end open at once, and keeps the pipe from having no reader. */
  readonly readEnd: number;
  /** A blocking write end. */
  readonly writeEnd: number;
  /** Removes the path and its folder (the open ends stay usable). */
  remove(): void;
}

/**
 * A named pipe in a private temporary folder, for a thread that talks to
 * ffmpeg with blocking reads or writes (node's own pipes are non-blocking
 * and serviced by the main thread's event loop), with both ends open and
 * nothing blocked: the read end is opened non-blocking first (which always
 * succeeds), so the blocking write end then opens at once. null where
 * mkfifo is missing or fails (Windows): callers then use ordinary pipes.
 */
export function openFifo(prefix: string): OpenFifo | null {
  let dir: string | null = null;
  const ends: number[] = [];
  try {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const path = join(dir, 'fifo');
    if (spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' }).status !== 0) throw new Error('mkfifo failed');
    ends.push(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    ends.push(openSync(path, constants.O_WRONLY));
    const made = dir;
    return { path, readEnd: ends[0]!, writeEnd: ends[1]!, remove: () => rmSync(made, { recursive: true, force: true }) };
  } catch {
    for (const fd of ends) closeSync(fd);
    if (dir) rmSync(dir, { recursive: true, force: true });
    return null;
  }
}
