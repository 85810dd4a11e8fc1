import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

/**
 * mkdir -p without `recursive: true`: Node 20's recursive mkdir never
 * settles on some pseudo file systems (a path under /proc hung here), so the
 * missing parents are walked and made one by one; the first failure is thrown.
 */
export async function mkdirParents(abs: string): Promise<void> {
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    try {
      await fsp.stat(p);
      break;
    } catch {
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await fsp.mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * The few file operations the recorder performs, as an interface so tests can
 * inject failures (ENOSPC on the Nth write) that are impractical to cause on a
 * real disk.
 */
export interface RecorderFs {
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** One write() on a file opened with O_APPEND, so a line is never interleaved. */
  appendFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  rmdir(path: string): Promise<void>;
  /** Size in bytes, or null when the path does not exist. */
  size(path: string): Promise<number | null>;
  isDirectory(path: string): Promise<boolean | null>;
}

export const nodeFs: RecorderFs = {
  writeFile: (p, d) => fsp.writeFile(p, d),
  appendFile: (p, d) => fsp.appendFile(p, d, { flag: 'a' }),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  mkdir: mkdirParents,
  readdir: (p) => fsp.readdir(p),
  rmdir: (p) => fsp.rmdir(p),
  size: async (p) => {
    try {
      return (await fsp.stat(p)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
  isDirectory: async (p) => {
    try {
      return (await fsp.stat(p)).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
};
