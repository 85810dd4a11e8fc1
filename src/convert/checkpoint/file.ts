import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DepthVideoError, errorText } from '../../errors.js';
import { damagedCheckpoint } from './errors.js';

// readSync takes at most 2 GiB - 1 per call.
const MAX_READ = 0x7fff_f000;

/** An open file read by positioned reads only; shared by a checkpoint and its tensors. */
export class RandomAccessFile {
  readonly size: number;
  private fd: number | null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new DepthVideoError('INPUT_MISSING', `${path}: no such file; check the path`, { file: path, cause: e });
      }
      throw new DepthVideoError('CHECKPOINT_INVALID', `${path}: cannot open the checkpoint (${errorText(e)})`, { file: path, cause: e });
    }
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      this.fd = null;
      throw new DepthVideoError('CHECKPOINT_INVALID', `${path}: not a regular file; give the checkpoint file itself`, { file: path });
    }
    this.size = st.size;
  }

  /** Fills `into` from file position `position`; a short read means the file ended early. */
  readInto(into: Uint8Array, position: number): void {
    if (this.fd === null) throw new Error(`${this.path}: the checkpoint was closed`);
    if (position + into.length > this.size) {
      throw damagedCheckpoint(this.path, `data at byte ${position} runs past the end of the ${this.size}-byte file`);
    }
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, Math.min(MAX_READ, into.length - done), position + done);
      if (n === 0) throw damagedCheckpoint(this.path, `the file ended at byte ${position + done}`);
      done += n;
    }
  }

  read(position: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    this.readInto(b, position);
    return b;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
