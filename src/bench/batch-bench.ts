/**
 * `npm run bench:batch [-- --quick] [--model <name>] [--clips N] [--frames N]`
 *
 * A batch of short clips through `depth-video batch` (one process, one model
 * session) against the same clips run one by one through the CLI (a process
 * and a session each), in alternating rounds; then the BullMQ queue's
 * overhead per job with two local workers on a throwaway redis-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { ffmpegPath, runToEnd } from '../ffmpeg/binary.js';
import { resolveModel } from '../models/resolve.js';
import { packageRoot } from '../paths.js';
import { connectRedis, QUEUE_NAME } from '../queue/connection.js';
import { enqueueFiles } from '../queue/enqueue.js';
import type { JobData, JobResult } from '../queue/jobs.js';
import type { FileOptions } from '../batch/options.js';
import { redisMissing, startRedis } from './local-redis.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'dpt-tiny' },
    clips: { type: 'string' },
    frames: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const model = values.model ?? 'dpt-tiny';
const clips = Number(values.clips ?? (quick ? 4 : 10));
const frames = Number(values.frames ?? (quick ? 8 : 15));
const rounds = quick ? 1 : 3;
const queueJobs = quick ? 8 : 24;

const BIN = join(packageRoot, 'bin', 'depth-video.js');
const dir = mkdtempSync(join(tmpdir(), 'dv-bench-batch-'));
const out = (line: string) => process.stdout.write(line + '\n');

/** Runs a command to completion; resolves with its wall time in ms. */
async function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await runToEnd(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${r.stderr.slice(-400)}`);
  return performance.now() - t0;
}

const ffmpeg = (args: string[]) => timed(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);
const cli = (args: string[]) => timed(process.execPath, [BIN, ...args]);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function batchVersusOneByOne(inputDir: string, paths: readonly string[]): Promise<void> {
  const oneMs: number[] = [];
  const batchMs: number[] = [];
  const oneByOne = async (round: number) => {
    const o = join(dir, `one-${round}`);
    mkdirSync(o);
    let ms = 0;
    for (const [i, p] of paths.entries()) ms += await cli([p, '--out', join(o, `${i}.mp4`), '--model', model, '--sync', '-q']);
    oneMs.push(ms);
  };
  const batch = async (round: number) => {
    batchMs.push(await cli(['batch', inputDir, '--out-dir', join(dir, `batch-${round}`), '--model', model, '-q']));
  };
  // Alternating order, so a slow spell of this shared machine does not land on one side only.
  for (let r = 0; r < rounds; r++) {
    if (r % 2) { await batch(r); await oneByOne(r); } else { await oneByOne(r); await batch(r); }
  }
  const n = paths.length;
  const one = median(oneMs);
  const bat = median(batchMs);
  const rate = (ms: number) => `${(n / (ms / 1000)).toFixed(2)} files/s, ${((n * frames) / (ms / 1000)).toFixed(1)} frames/s`;
  out(`${n} clips of ${frames} frames at 320x180, model ${model}, median of ${rounds} round(s):`);
  out(`  one by one through the CLI: ${(one / 1000).toFixed(2)} s = ${rate(one)}  (rounds: ${oneMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s)`);
  out(`  depth-video batch:          ${(bat / 1000).toFixed(2)} s = ${rate(bat)}  (rounds: ${batchMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s)`);
  out(`  batch / one by one: ${(one / bat).toFixed(2)}x the files per second; ${((one - bat) / n).toFixed(0)} ms saved per file (process start and model load, paid once)`);
  out(`  target: the batch is faster than one by one: ${bat < one ? 'met' : 'NOT met'}`);
}

function startWorker(url: string, name: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((res, rej) => {
    let log = '';
    p.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('waiting for jobs')) res(p);
    });
    p.on('close', (c) => rej(new Error(`worker ${name} exited with ${c}: ${log.slice(-400)}`)));
  });
}

/**
 * Overhead per job: in the worker, the time a job is active beyond its
 * pipeline's own wall time (validation, temp + rename, BullMQ's bookkeeping);
 * between jobs, the gap from one job's end to the same worker's next start
 * (fetching). The first job of each worker also loads the model, so medians.
 */
async function queueOverhead(paths: readonly string[], options: FileOptions): Promise<void> {
  const missing = redisMissing();
  if (missing) { out(`queue: skipped (${missing})`); return; }
  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  try {
    workers.push(...(await Promise.all([startWorker(redis.url, 'w1'), startWorker(redis.url, 'w2')])));
    const t0 = performance.now();
    const s = await enqueueFiles({ redis: redis.url, inputs: paths, outDir: join(dir, 'queue-out'), options });
    const enqueueMs = performance.now() - t0;
    const conn = await connectRedis(redis.url);
    const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection: conn });
    try {
      for (;;) {
        const c = await queue.getJobCounts('completed', 'failed');
        if (c.failed) throw new Error(`${c.failed} queue job(s) failed: ${(await queue.getFailed())[0]?.failedReason}`);
        if (c.completed === s.added) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const jobs = await queue.getCompleted(0, -1);
      const inWorker = jobs.map((j) => j.finishedOn! - j.processedOn! - j.returnvalue.wallMs);
      const gaps: number[] = [];
      for (const name of ['w1', 'w2']) {
        const mine = jobs.filter((j) => j.processedBy === name).sort((a, b) => a.processedOn! - b.processedOn!);
        for (let i = 1; i < mine.length; i++) gaps.push(mine[i]!.processedOn! - mine[i - 1]!.finishedOn!);
      }
      const jobMs = median(jobs.map((j) => j.finishedOn! - j.processedOn!));
      const over = median(inWorker) + (gaps.length ? median(gaps) : 0);
      out(`queue: ${s.added} single-frame jobs, 2 local workers (processes), model ${model}:`);
      out(`  enqueue ${(enqueueMs / s.added).toFixed(1)} ms per job (discovery, id, add; one connection)`);
      out(`  in the worker around the pipeline ${median(inWorker).toFixed(1)} ms, between jobs ${gaps.length ? median(gaps).toFixed(1) : '-'} ms (medians)`);
      out(`  queue overhead per job: ${over.toFixed(1)} ms of a ${jobMs.toFixed(0)} ms job (median); wall ${((performance.now() - t0) / 1000).toFixed(2)} s from enqueue to the last job done`);
    } finally {
      await queue.close();
      conn.disconnect();
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await redis.stop();
  }
}

async function main(): Promise<void> {
  // A generated model is built on first use; do it now so no side pays for it.
  await resolveModel(model, { allowDownload: true });
  const inputDir = join(dir, 'clips');
  mkdirSync(inputDir);
  const paths: string[] = [];
  for (let i = 0; i < clips; i++) {
    const p = join(inputDir, `clip${i}.mp4`);
    await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=15`, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', p]);
    paths.push(p);
  }
  await batchVersusOneByOne(inputDir, paths);

  const imageDir = join(dir, 'images');
  mkdirSync(imageDir);
  const images: string[] = [];
  for (let i = 0; i < queueJobs; i++) {
    const p = join(imageDir, `img${i}.png`);
    await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=160x90`, '-frames:v', '1', p]);
    images.push(p);
  }
  await queueOverhead(images, {
    model, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 },
    stillStabilize: 'off', spec: {}, audio: false, lossless: false, device: 'cpu', threads: null, maxFrames: null, videoExt: '.mp4',
  });
}

main().then(
  () => rmSync(dir, { recursive: true, force: true }),
  (e: unknown) => { process.stderr.write(`bench:batch failed: ${e instanceof Error ? e.message : String(e)}\n`); rmSync(dir, { recursive: true, force: true }); process.exitCode = 1; },
);
