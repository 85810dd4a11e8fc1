import { closeSync, existsSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DepthVideoError, errorText } from '../../errors.js';

const MAX_WRITE = 0x7fff_f000;

/**
 * A file written at explicit positions into a temp file beside the target,
 * renamed into place only when complete: an interrupted write never leaves a
 * half checkpoint under the real name. Skipping bytes (`skip`) leaves a hole,
 * so zero tensors cost no disk in a sparse file.
 */
export class OutFile {
  private fd: number;
  private readonly temp: string;
  position = 0;

  constructor(private readonly path: string, overwrite: boolean) {
    if (!overwrite && existsSync(path)) {
      throw new DepthVideoError('OUTPUT_EXISTS', `${path} already exists: remove it or pass overwrite`, { file: path });
    }
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    try {
      this.fd = openSync(this.temp, 'w');
    } catch (e) {
      throw new DepthVideoError('OUTPUT_DIR', `cannot write ${path}: ${errorText(e)}`, { file: path, cause: e });
    }
  }

  write(data: Uint8Array): void {
    for (let done = 0; done < data.length;) {
      done += writeSync(this.fd, data, done, Math.min(MAX_WRITE, data.length - done), this.position + done);
    }
    this.position += data.length;
  }

  skip(bytes: number): void {
    this.position += bytes;
  }

  /** Sets the final length (a trailing hole included) and renames the file into place. */
  commit(): void {
    ftruncateSync(this.fd, this.position);
    closeSync(this.fd);
    renameSync(this.temp, this.path);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.temp, { force: true });
  }
}

/** Runs `body` on an OutFile, committing on success and removing the temp file on any failure. */
export function writeAtomically(path: string, overwrite: boolean, body: (out: OutFile) => void): void {
  const out = new OutFile(path, overwrite);
  try {
    body(out);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}
