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

/**
 * Theil-Sen slope: the median of the slopes between every two points. RSS
 * moves in allocator-sized steps, and on a loaded machine one late step can
 * tilt a least-squares line by more than a bound; a steady leak tilts most
 * pairs, so it still shows in full.
 */
export function medianSlope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const s: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) s.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  s.sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const KB = 1024;
export const MB = 1024 * 1024;
