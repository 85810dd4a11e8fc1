import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DepthVideoError, errorText } from '../errors.js';

/** A file's identity for "has it changed since": size and modification time. */
export interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
}

export type EntryStatus = 'done' | 'damaged' | 'interrupted' | 'failed';

/** What the batch knows about one output, keyed by its path below the out dir. */
export interface StateEntry {
  readonly input: string;
  readonly inputPrint: Fingerprint;
  readonly options: string;
  readonly status: EntryStatus;
  readonly frames: number;
  /** The output as this batch left it; null when it wrote none. */
  readonly outputPrint: Fingerprint | null;
  readonly error: string | null;
  readonly at: string;
}

interface StateFile {
  readonly version: 1;
  readonly entries: Record<string, StateEntry>;
}

export const STATE_FILE = '.depth-video-batch.json';
const LOCK_FILE = '.depth-video-batch.lock';

const samePrint = (a: Fingerprint | null, b: Fingerprint | null) => !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs;

export type Decision = 'skip' | 'run' | 'foreign';

/**
 * Whether an output needs making. It is finished only if this batch finished
 * it (done, or done up to the input's damage) from the same input with the
 * same options, and it is still the file the batch left. A missing output is
 * made; one the batch made from something else, or left unfinished, is
 * remade; any other existing file is someone else's ('foreign': replaced only
 * with --overwrite).
 */
export function decide(entry: StateEntry | undefined, input: Fingerprint | null, options: string, output: Fingerprint | null): Decision {
  if (!output) return 'run';
  if (!entry || !samePrint(entry.outputPrint, output)) return 'foreign';
  const finished = entry.status === 'done' || entry.status === 'damaged';
  return finished && entry.options === options && samePrint(entry.inputPrint, input) ? 'skip' : 'run';
}

/**
 * The out dir's record of finished outputs, rewritten (temp + rename) after
 * every file so a killed batch loses at most the file in progress. A lock
 * file keeps two batches from writing the same folder at once.
 */
export class BatchState {
  private constructor(private readonly dir: string, private readonly entries: Record<string, StateEntry>, readonly warning: string | null) {}

  static async open(dir: string): Promise<BatchState> {
    await takeLock(dir);
    const file = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return new BatchState(dir, {}, null);
    }
    try {
      const data = JSON.parse(text) as StateFile;
      if (data.version !== 1 || typeof data.entries !== 'object' || data.entries === null) throw new Error(`unknown version ${String(data.version)}`);
      return new BatchState(dir, { ...data.entries }, null);
    } catch (e) {
      // Outputs it listed now count as someone else's, so nothing is lost: they are kept unless --overwrite.
      return new BatchState(dir, {}, `${file} is unreadable (${errorText(e)}): starting a new record; existing outputs are kept unless --overwrite`);
    }
  }

  get(key: string): StateEntry | undefined {
    return this.entries[key];
  }

  async set(key: string, entry: StateEntry): Promise<void> {
    this.entries[key] = entry;
    const file = join(this.dir, STATE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    const data: StateFile = { version: 1, entries: this.entries };
    await writeFile(tmp, JSON.stringify(data, null, 1) + '\n');
    await rename(tmp, file);
  }

  async close(): Promise<void> {
    await rm(join(this.dir, LOCK_FILE), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(dir: string): Promise<void> {
  const lock = join(dir, LOCK_FILE);
  const me = `${process.pid} ${hostname()}\n`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const h = await open(lock, 'wx');
      await h.writeFile(me);
      await h.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DepthVideoError('OUTPUT_DIR', `cannot write ${lock} (${errorText(e)}): choose another --out-dir or fix its permissions`, { file: lock });
      }
    }
    const [pidText, host] = (await readFile(lock, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    // A lock left by a batch that died on this machine is taken over; one from another machine cannot be checked.
    if (host === hostname() && Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      await rm(lock, { force: true });
      continue;
    }
    throw new DepthVideoError('OUTPUT_DIR', `another batch (pid ${pidText} on ${host ?? 'unknown host'}) is writing to ${dir}: wait for it, or delete ${lock} if it is gone`, { file: lock });
  }
  throw new DepthVideoError('OUTPUT_DIR', `cannot take the lock ${lock}: delete it if no batch is running`, { file: lock });
}
