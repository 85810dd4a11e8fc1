import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection on demand, without starting the worker with --expose-gc:
// the flag set at run time exposes gc() to contexts created after it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bytes this process holds in JavaScript objects and ArrayBuffers (Buffers,
 * frame slots, queued socket writes) after two full collections: what a leak
 * or a queue grows, without RSS's page-level noise (RSS also counts freed
 * memory the allocator has not returned). `external` is left out: it lags
 * behind ArrayBuffers that were freed.
 */
export function liveBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return num / den;
}

export const KB = 1024;
export const MB = 1024 * 1024;
