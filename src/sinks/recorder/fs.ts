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

/**
 * Test seam for the crash tests. DEPTH_VIDEO_TEST_PAUSE=<op>:<path part>:<n>
 * (op writeFile or appendFile) makes the n-th such write to a path containing
 * <path part> write the first half of its data, say so on stderr
 * ("depth-video test pause: <op> <path>") and freeze the process right there,
 * so that the test's SIGKILL lands inside the write itself, whatever file it
 * is and however the recorder names it.
 */
export function pausingFs(inner: RecorderFs, spec: string): RecorderFs {
  const m = /^(writeFile|appendFile):([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`DEPTH_VIDEO_TEST_PAUSE=${spec}: expected writeFile|appendFile:<path part>:<n>`);
  const [, op, part, nth] = m;
  let seen = 0;
  const halfThenFreeze = async (path: string, data: Uint8Array | string): Promise<void> => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const half = bytes.subarray(0, bytes.length >> 1);
    await (op === 'writeFile' ? fsp.writeFile(path, half) : fsp.appendFile(path, half, { flag: 'a' }));
    // stderr is synchronous on a pipe, so the line is out before the freeze.
    process.stderr.write(`depth-video test pause: ${op} ${path}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
  const hit = (name: string, path: string) => name === op && path.includes(part!) && ++seen === Number(nth);
  return {
    ...inner,
    writeFile: (p, d) => (hit('writeFile', p) ? halfThenFreeze(p, d) : inner.writeFile(p, d)),
    appendFile: (p, d) => (hit('appendFile', p) ? halfThenFreeze(p, d) : inner.appendFile(p, d)),
  };
}

/**
 * The file layer recorders use unless given one: the disk, or the crash
 * tests' pausing seam, honoured only under vitest as the other test seams
 * are (a stray variable must not freeze a user's run).
 */
export function defaultRecorderFs(): RecorderFs {
  const spec = process.env.VITEST ? process.env.DEPTH_VIDEO_TEST_PAUSE : undefined;
  return spec ? pausingFs(nodeFs, spec) : nodeFs;
}
