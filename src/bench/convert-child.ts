import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';

export interface ChildConversion {
  readonly seconds: number;
  /** The converting process's own peak resident set, in bytes. */
  readonly peakRss: number;
  readonly variant: string;
  readonly parameterCount: number;
}

/**
 * Converts `checkpoint` to `out` in a fresh Node process (the built dist/),
 * so the peak memory measured is the conversion's alone. The peak is VmHWM
 * from /proc: on Linux, ru_maxrss survives exec, so a child forked from a
 * large parent would report the parent's peak (ru_maxrss elsewhere).
 */
export function convertInChild(checkpoint: string, out: string): ChildConversion {
  const entry = pathToFileURL(join(packageRoot, 'dist', 'convert', 'index.js')).href;
  const script = [
    `const { convertCheckpoint } = await import(${JSON.stringify(entry)});`,
    "const { readFileSync } = await import('node:fs');",
    'const r = await convertCheckpoint(process.argv[1], { out: process.argv[2], overwrite: true });',
    'let peakRss = process.resourceUsage().maxRSS * 1024;',
    "try { peakRss = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { /* no /proc: ru_maxrss */ }",
    'process.stdout.write(JSON.stringify({ seconds: r.seconds, peakRss, variant: r.variant, parameterCount: r.parameterCount }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, checkpoint, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`conversion of ${checkpoint} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildConversion;
}
