import type { Command } from 'commander';
import type { EnqueueReport } from '../queue/enqueue.js';
import type { QueueStatus } from '../queue/status.js';
import { loadPreset } from '../pipeline/preset.js';
import { stopOnSignals, untrainedBanner } from './console.js';
import { shortPath, type CliIO } from './io.js';
import { framesDone } from './progress.js';
import { untrainedTag } from './summary.js';
import { addPipelineOptions, extOption, fileOptionsFrom, intArg, presetFor, type PipelineFlags } from './pipeline-flags.js';
import { counted } from '../count.js';

interface EnqueueFlags extends PipelineFlags {
  redis: string;
  outDir: string;
  ext?: string;
  overwrite?: boolean;
  attempts: number;
  backoff: number;
  quiet?: boolean;
  json?: boolean;
}

interface WorkerFlags {
  redis: string;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalled: number;
  name?: string;
  download: boolean;
}

const REDIS_HELP = 'Redis server URL, e.g. redis://127.0.0.1:6379 (rediss:// for TLS)';

function enqueueLine(r: EnqueueReport): string {
  const what = `${shortPath(r.input)} -> ${shortPath(r.output)}`;
  if (r.status === 'added') return `queued   ${what} (job ${r.id})`;
  if (r.status === 'skipped') return `skipped  ${what}: the output exists (--overwrite to redo it)`;
  return `exists   ${what}: already queued (job ${r.id}, ${r.state})`;
}

/** The human form of `queue status`. */
export function statusText(s: QueueStatus): string {
  const c = s.counts;
  const lines = [`waiting ${c.waiting}, active ${c.active}, delayed ${c.delayed}, done ${c.completed}, failed ${c.failed}`];
  for (const a of s.active) {
    const p = a.progress ? ` ${framesDone(a.progress.frames, a.progress.total)}` : '';
    lines.push(`active   ${shortPath(a.input)}${p}${a.worker ? ` on ${a.worker}` : ''}`);
  }
  for (const r of s.retrying) lines.push(`retrying ${shortPath(r.input)} after ${counted(r.attempts, 'failed attempt')}: ${r.error}`);
  for (const f of s.failed) lines.push(`failed   ${shortPath(f.input)} after ${counted(f.attempts, 'attempt')}: ${f.error}`);
  for (const d of s.completed) lines.push(`done     ${shortPath(d.input)}${d.result ? ` -> ${shortPath(d.result.output)} (${counted(d.result.frames, 'frame')} on ${d.result.worker}, model ${d.result.model}${untrainedTag(d.result.untrained)})` : ''}`);
  return lines.join('\n');
}

/**
 * `depth-video enqueue`, `worker` and `queue status`: thin wiring over
 * src/queue, loaded on use so that BullMQ and ioredis do not slow down the
 * start of every other command.
 */
export function registerQueueCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const preset = loadPreset('default');
  const enqueue = program
    .command('enqueue')
    .description('add one job per video or image to the BullMQ queue on Redis, for `depth-video worker`s to process')
    .argument('<inputs...>', 'folders (searched recursively), .txt lists of paths, glob patterns (quoted) or files; every worker must see them at the same path')
    .requiredOption('--redis <url>', REDIS_HELP)
    .requiredOption('--out-dir <dir>', 'a folder every worker can write, at the same path on each (a shared mount; URLs are not supported)');
  addPipelineOptions(enqueue, preset, { schedule: false })
    .addOption(extOption())
    .option('--overwrite', 'redo files whose output exists or whose job finished or failed')
    .option('--attempts <n>', 'tries per job before it stays failed', intArg('--attempts', 1, 100), 3)
    .option('--backoff <ms>', 'delay before the first retry, doubling each time', intArg('--backoff', 0, 86_400_000), 10_000)
    .option('-q, --quiet', 'only the final line on stderr')
    .option('--json', 'one JSON line per file on stdout')
    .action(async (inputs: string[], flags: EnqueueFlags, c: Command) => {
      const { enqueueFiles } = await import('../queue/enqueue.js');
      const s = await enqueueFiles({
        redis: flags.redis,
        inputs,
        outDir: flags.outDir,
        options: fileOptionsFrom(c, flags, presetFor(flags, preset), flags.ext),
        overwrite: flags.overwrite ?? false,
        attempts: flags.attempts,
        backoffMs: flags.backoff,
        onJob: (r) => {
          if (flags.json) io.stdout.write(JSON.stringify(r) + '\n');
          if (!flags.quiet) io.stderr.write(enqueueLine(r) + '\n');
        },
      });
      io.stderr.write(`enqueue: ${s.added} added, ${s.existing} already queued, ${s.skipped} skipped (output exists)\n`);
      setExit(0);
    });

  program
    .command('worker')
    .description('process jobs from the queue until stopped (Ctrl-C puts jobs in progress back on the queue)')
    .requiredOption('--redis <url>', REDIS_HELP)
    .option('--concurrency <n>', 'jobs at once in this process (they share one model session)', intArg('--concurrency', 1, 64), 1)
    .option('--lock-duration <ms>', 'job lock lifetime; a dead worker\'s job is retried after about this long', intArg('--lock-duration', 500, 3_600_000), 30_000)
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', intArg('--stalled-interval', 200, 3_600_000), 15_000)
    .option('--max-stalled <n>', 'times a job may lose its worker before it is failed', intArg('--max-stalled', 0, 100), 2)
    .option('--name <name>', 'worker name shown by `queue status` (default host:pid)')
    .option('--no-download', 'never download a named model; fail the job if it is missing here')
    .action(async (flags: WorkerFlags) => {
      const { runWorker } = await import('../queue/worker.js');
      const stop = stopOnSignals(io, 'putting the jobs in progress back on the queue');
      const seen = new Set<string>();
      const warned = new Map<string, number>();
      const log = (line: string) => io.stderr.write(`${new Date().toISOString()} ${line}\n`);
      try {
        const r = await runWorker({
          redis: flags.redis,
          concurrency: flags.concurrency,
          lockDurationMs: flags.lockDuration,
          stalledIntervalMs: flags.stalledInterval,
          maxStalledCount: flags.maxStalled,
          allowDownload: flags.download,
          name: flags.name,
          signal: stop.signal,
          hooks: {
            onReady: (name) => log(`worker ${name}: waiting for jobs`),
            onModel: (m) => {
              if (m.untrained && !seen.has(m.path)) io.stderr.write(untrainedBanner(m.label, m.path));
              seen.add(m.path);
              log(`model ${m.label} loaded on ${m.deviceLabel}`);
            },
            onJobStart: (e) => log(`start  ${e.id} ${e.input} (attempt ${e.attempt})`),
            onJobDone: (e) => log(`done   ${e.id} ${e.input} -> ${e.output}: ${counted(e.result.frames, 'frame')} in ${(e.result.wallMs / 1000).toFixed(1)} s${untrainedTag(e.result.untrained)}${e.result.damage ? `; ${e.result.damage}` : ''}`),
            onJobFailed: (e) => log(`failed ${e.id} ${e.input}: ${e.message} (${e.retry ? 'will be retried' : 'no more retries'})`),
            onJobReturned: (e) => log(`back   ${e.id} ${e.input}: stopped and put back on the queue`),
            onNote: (line) => log(line),
            onWarning: (line) => {
              // While Redis is away every reconnection attempt of every connection complains; once in 30 s is enough.
              const now = Date.now();
              if (now - (warned.get(line) ?? 0) < 30_000) return;
              warned.set(line, now);
              log(`warning: ${line}`);
            },
          },
        });
        log(`worker stopped: ${r.done} done, ${r.failed} failed`);
      } finally {
        stop.dispose();
      }
      setExit(stop.signal.aborted ? 130 : 0);
    });

  program
    .command('queue')
    .description('inspect the queue')
    .command('status')
    .description('jobs waiting, active (with progress), done and failed (with their errors)')
    .requiredOption('--redis <url>', REDIS_HELP)
    .option('--completed', 'list finished jobs too')
    .option('--json', 'machine-readable on stdout')
    .action(async (flags: { redis: string; completed?: boolean; json?: boolean }) => {
      const { queueStatus } = await import('../queue/status.js');
      const s = await queueStatus(flags.redis, { completed: flags.completed });
      io.stdout.write((flags.json ? JSON.stringify(s) : statusText(s)) + '\n');
      setExit(0);
    });
}
