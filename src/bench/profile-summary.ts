/**
 * Where a run's threads spend their time, from the V8 CPU profiles that
 * `node --cpu-prof --cpu-prof-dir=DIR` writes (one file per thread: the main
 * thread, the frame workers, the reader, the inference worker, the encoder
 * feed; the reader's blocking reads and the feed's blocking writes count as
 * busy, as V8 samples them):
 * `node dist/bench/profile-summary.js DIR [frames]` (with the frame count it also prints busy ms a frame).
 *
 * Made for the GPU machine's one-shot script (scripts/gpu-bench.sh): there
 * the 1080p ceiling stops at ~69 frames/s with 16 cores mostly idle, and a
 * session has no second try to look, so the run brings back each thread's
 * busy time and its heaviest functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The parts of a .cpuprofile this reads (V8's Profiler.Profile). */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  /** Microseconds before each sample. */
  readonly timeDeltas: readonly number[];
}

export interface ThreadSummary {
  /** main, frame worker, reader, inference worker, encoder feed, or thread. */
  readonly role: string;
  readonly totalMs: number;
  /** Waiting: V8's "(idle)" (the event loop has nothing to do) and the known blocking waits (WAITS). */
  readonly idleMs: number;
  /** Everything else. */
  readonly busyMs: number;
  /** Self time by function, heaviest first. */
  readonly top: readonly { readonly name: string; readonly ms: number }[];
}

const ROLES: readonly [string, string][] = [
  ['pipeline/frame-worker.js', 'frame worker'],
  ['sources/fifo-reader.js', 'reader'],
  ['inference/inference-worker.js', 'inference worker'],
  ['sinks/pipe-writer.js', 'encoder feed'],
];

/**
 * Functions that block their thread in Atomics.wait, which V8 samples as
 * running: the reader thread sleeping until a frame slot is free.
 */
const WAITS: readonly RegExp[] = [/^waitFor sources\/fifo-reader\.js:/];

function frameName(f: CpuProfile['nodes'][number]['callFrame']): string {
  if (!f.url) return f.functionName || '(anonymous)';
  const file = f.url.split('/').slice(-2).join('/');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
}

/** One thread's profile summed by function (self time); `main` says whether it is the main thread's. */
export function summarizeProfile(p: CpuProfile, main: boolean, top = 12): ThreadSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i] ?? 0;
    totalUs += dt;
    if (!node) continue;
    const name = frameName(node.callFrame);
    if (name === '(idle)' || WAITS.some((w) => w.test(name))) idleUs += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  const urls = p.nodes.map((n) => n.callFrame.url);
  const role = main ? 'main' : ROLES.find(([file]) => urls.some((u) => u.endsWith(file)))?.[1] ?? 'thread';
  return {
    role,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: (totalUs - idleUs) / 1000,
    top: [...self].filter(([name]) => name !== '(idle)' && !WAITS.some((w) => w.test(name))).sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000 })),
  };
}

/**
 * Every profile in `dir`, main thread first. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one.
 */
export function summarizeDir(dir: string, top = 12): ThreadSummary[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  return files
    .map((f) => ({ thread: Number(f.split('.').at(-3)), profile: JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile }))
    .sort((a, b) => a.thread - b.thread)
    .map(({ thread, profile }) => summarizeProfile(profile, thread === 0, top));
}

export function formatSummaries(threads: readonly ThreadSummary[], frames: number | null): string {
  const per = (ms: number) => (frames ? `, ${(ms / frames).toFixed(2)} ms a frame` : '');
  const lines: string[] = [];
  for (const t of threads) {
    lines.push(`${t.role}: busy ${t.busyMs.toFixed(0)} of ${t.totalMs.toFixed(0)} ms (${((100 * t.busyMs) / Math.max(1, t.totalMs)).toFixed(0)}%${per(t.busyMs)})`);
    for (const f of t.top) lines.push(`  ${f.ms.toFixed(1).padStart(8)} ms  ${f.name}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, frames] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node dist/bench/profile-summary.js <dir of .cpuprofile files> [frames]');
    process.exit(2);
  }
  console.log(formatSummaries(summarizeDir(dir), frames ? Number(frames) : null));
}
