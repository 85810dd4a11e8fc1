import { isAbsolute, relative } from 'node:path';

/** Where a command writes: the process's streams, or a test's. */
export interface CliIO {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** A path as short as it can be said: below the current folder, or absolute. */
export function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}
