import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/queue/connection.js';
import type { JobProgress, JobResult } from '../../src/queue/jobs.js';
import { BIN, decodeVideo, errorLine, makeClip, ROOT, runCli, tempDir } from '../helpers/media.js';
import { startRedis, type RedisServer } from '../../src/bench/local-redis.js';
import { requireProgram } from '../helpers/prerequisites.js';
import { writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { randomEntries } from '../convert/midas/state-dict.js';

const redisServer = requireProgram('/usr/bin/redis-server', 'apt-get install redis-server');

const FRAMES = 10;

interface Worker {
  readonly proc: ChildProcess;
  log: string;
  readonly exited: Promise<number | null>;
}

/** A worker process with short lock and stall intervals, so a dead worker's job comes back within seconds. */
function startWorker(url: string, name: string, env: NodeJS.ProcessEnv = process.env): Worker {
  const proc = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--name', name, '--lock-duration', '3000', '--stalled-interval', '1000'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const w: Worker = { proc, log: '', exited: new Promise((res) => proc.on('close', (code) => res(code))) };
  proc.stderr!.on('data', (d: Buffer) => { w.log += d.toString(); });
  return w;
}

async function until(what: string, test: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Inputs named on the worker's log lines of one kind ("start", "done", "failed"). */
function logged(log: string, kind: string): string[] {
  return [...log.matchAll(new RegExp(`^\\S+ ${kind} +dv-[0-9a-f]+ (\\S+)`, 'gm'))].map((m) => m[1]!);
}

const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

function listAll(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? listAll(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]).sort();
}

redisServer.describe('BullMQ queue on a real redis-server', () => {
  let redis: RedisServer;
  let conn: Redis;
  let queue: Queue<unknown, JobResult>;
  const workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: conn });
  });
  afterAll(async () => {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await queue?.close();
    conn?.disconnect();
    await redis?.stop();
  });

  it('two workers: every job done once, a killed worker\'s job finished by the other, a broken file failed once, nothing enqueued twice', async () => {
    const dir = tempDir('dv-queue-');
    const out = join(dir, 'out');
    const clipAt = (p: string) => {
      mkdirSync(join(p, '..'), { recursive: true });
      return makeClip(p, `testsrc2=size=64x48:rate=10:duration=${FRAMES / 10}`);
    };
    // One slow job (analytic-slow: 100+ ms a frame) to kill a worker in the
    // middle of, five quick ones (analytic) for the two workers to share.
    const slow = clipAt(join(dir, 'slow', 'clip0.mp4'));
    const fast = [1, 2, 3, 4, 5].map((i) => clipAt(join(dir, 'fast', i % 2 ? 'odd' : 'even', `clip${i}.mp4`)));
    const bad = join(dir, 'fast', 'bad.mp4');
    writeFileSync(bad, 'not a video at all\n'.repeat(20));

    // Everything is enqueued before any worker runs: the third enqueue must meet
    // the slow job unfinished, and with a worker already on it the job could
    // finish first on a loaded machine (CI once saw "1 skipped (output exists)").
    const enqueueSlow = ['enqueue', join(dir, 'slow'), '--redis', redis.url, '--out-dir', join(out, 'slow'), '--model', 'analytic-slow'];
    const enqueueFast = ['enqueue', join(dir, 'fast'), '--redis', redis.url, '--out-dir', join(out, 'fast'), '--model', 'analytic'];
    const e1 = await runCli(enqueueSlow);
    expect(e1.code, e1.stderr).toBe(0);
    expect(e1.stderr).toMatch(/enqueue: 1 added, 0 already queued/);
    const e2 = await runCli(enqueueFast);
    expect(e2.stderr).toMatch(/enqueue: 6 added, 0 already queued/);
    // Other options, same output: no second job may write it while the first is unfinished.
    const e3 = await runCli([...enqueueSlow, '--invert']);
    expect(e3.stderr).toMatch(/enqueue: 0 added, 1 already queued/);

    const workers2 = [startWorker(redis.url, 'A'), startWorker(redis.url, 'B')];
    try {
      // No wait for both to be ready: the first one up takes the slow job at
      // once, and the poll below must already be watching it.
      // Kill the slow job's worker once it has rendered some, not all, of the frames.
      let holder: string | null = null;
      await until('the slow job in progress', async () => {
        for (const j of await queue.getActive()) {
          const p = j.progress as JobProgress | number;
          if ((j.data as { input: string }).input === slow && typeof p === 'object' && p.frames >= 1 && p.frames < FRAMES) holder = j.processedBy ?? null;
        }
        return holder !== null;
      }, 120_000);
      const victim = workers2[holder === 'A' ? 0 : 1]!;
      const survivor = workers2[holder === 'A' ? 1 : 0]!;
      victim.proc.kill('SIGKILL');
      expect(await victim.exited).toBe(null);
      // Its lock has not lapsed yet, so nobody has retried the job: the output path holds nothing half-made.
      await new Promise((r) => setTimeout(r, 300));
      expect(existsSync(join(out, 'slow', 'clip0.mp4'))).toBe(false);

      const doneLines = () => [...logged(victim.log, 'done'), ...logged(survivor.log, 'done')];
      await until('6 done and 1 failed', async () => {
        const c = await queue.getJobCounts('completed', 'failed');
        // The log line comes after BullMQ has the job as completed.
        return c.completed === 6 && c.failed === 1 && doneLines().length >= 6;
      }, 180_000);

      const done = doneLines();
      for (const c of [slow, ...fast]) expect(count(done, c), `${c} done lines`).toBe(1);
      expect(logged(victim.log, 'start')).toContain(slow);
      expect(logged(victim.log, 'done')).not.toContain(slow);
      expect(survivor.log).toMatch(new RegExp(`start +dv-[0-9a-f]+ ${slow} \\(attempt 2\\)`));
      const completed = await queue.getCompleted();
      expect(completed.find((j) => (j.data as { input: string }).input === slow)?.returnvalue).toMatchObject({ worker: holder === 'A' ? 'B' : 'A', frames: FRAMES, model: 'analytic-slow', untrained: true });

      // Every output whole, nothing half-made left anywhere.
      const outputs = ['fast/even/clip2.mp4', 'fast/even/clip4.mp4', 'fast/odd/clip1.mp4', 'fast/odd/clip3.mp4', 'fast/odd/clip5.mp4', 'slow/clip0.mp4'];
      expect(listAll(out)).toEqual(outputs);
      for (const rel of outputs) expect(decodeVideo(join(out, rel)).pts, rel).toHaveLength(FRAMES);

      // The broken file failed at once, with its message, without spending retries.
      expect(count([...logged(victim.log, 'start'), ...logged(survivor.log, 'start')], bad)).toBe(1);
      const st = await runCli(['queue', 'status', '--redis', redis.url, '--json']);
      expect(st.code, st.stderr).toBe(0);
      const status = JSON.parse(st.stdout) as { counts: Record<string, number>; failed: { input: string; attempts: number; error: string }[] };
      expect(status.counts).toMatchObject({ waiting: 0, active: 0, completed: 6, failed: 1 });
      expect(status.failed).toHaveLength(1);
      expect(status.failed[0]).toMatchObject({ input: bad, attempts: 1 });
      expect(status.failed[0]!.error).toMatch(/bad\.mp4: not a video or image ffmpeg can read/);
      const text = await runCli(['queue', 'status', '--redis', redis.url]);
      expect(text.stdout).toMatch(/^waiting 0, active 0, delayed 0, done 6, failed 1$/m);
      expect(text.stdout).toMatch(/^failed +.*bad\.mp4 after 1 attempt: .*not a video or image/m);

      // The same inputs again: nothing new to do.
      const startsBefore = logged(survivor.log, 'start').length;
      expect((await runCli(enqueueFast)).stderr).toMatch(/enqueue: 0 added, 6 already queued/);
      expect((await runCli(enqueueSlow)).stderr).toMatch(/enqueue: 0 added, 1 already queued/);
      await new Promise((r) => setTimeout(r, 1500));
      expect(logged(survivor.log, 'start')).toHaveLength(startsBefore);
      expect(await queue.getJobCounts('waiting', 'active', 'completed')).toMatchObject({ waiting: 0, active: 0, completed: 6 });

      survivor.proc.kill('SIGINT');
      expect(await survivor.exited).toBe(130);
      expect(survivor.log).toMatch(/worker stopped: \d+ done, \d+ failed/);
    } finally {
      // A failed assertion must not leave a worker taking the next test's jobs.
      for (const w of workers2) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    }
  }, 300_000);

  it('Ctrl-C on a worker puts its job back on the queue whole, without spending an attempt', async () => {
    const dir = tempDir('dv-queue-int-');
    mkdirSync(join(dir, 'in'));
    const clip = makeClip(join(dir, 'in', 'solo.mp4'), `testsrc2=size=64x48:rate=10:duration=${FRAMES / 10}`);
    const out = join(dir, 'out');
    const w = startWorker(redis.url, 'C');
    workers.push(w);
    await until('worker C', () => /waiting for jobs/.test(w.log), 60_000);
    const e = await runCli(['enqueue', clip, '--redis', redis.url, '--out-dir', out, '--model', 'analytic-slow', '-q']);
    expect(e.stderr).toMatch(/enqueue: 1 added/);
    await until('the job in progress on C', async () => (await queue.getActive()).some((j) => {
      const p = j.progress as JobProgress | number;
      return j.processedBy === 'C' && typeof p === 'object' && p.frames >= 1 && p.frames < FRAMES;
    }), 120_000);
    w.proc.kill('SIGINT');
    expect(await w.exited).toBe(130);
    expect(w.log).toMatch(new RegExp(`back +dv-[0-9a-f]+ ${clip}: stopped and put back on the queue`));
    const [job] = await queue.getWaiting();
    expect((job?.data as { input: string } | undefined)?.input).toBe(clip);
    expect(job!.attemptsMade).toBe(0);
    // Neither a partial output nor a temporary file stays behind.
    expect(listAll(out)).toEqual([]);
    await job!.remove();
  }, 180_000);

  it('a job whose model is a checkpoint: the worker logs its conversion as what it does, not as a warning', async () => {
    const dir = tempDir('dv-queue-ckpt-');
    mkdirSync(join(dir, 'in'));
    const clip = makeClip(join(dir, 'in', 'ckpt.mp4'), `testsrc2=size=64x48:rate=10:duration=${FRAMES / 10}`);
    const ckpt = join(dir, 'dpt_small.pt');
    writeTorchCheckpoint(ckpt, randomEntries({ encoder: 'vit', embedDim: 64, depth: 12, grid: 4, features: 16, maps: [8, 16, 32, 32] }, 4));
    const w = startWorker(redis.url, 'D', { ...process.env, DEPTH_VIDEO_MODELS: join(dir, 'models') });
    workers.push(w);
    try {
      await until('worker D', () => /waiting for jobs/.test(w.log), 60_000);
      const e = await runCli(['enqueue', clip, '--redis', redis.url, '--out-dir', join(dir, 'out'), '--model', ckpt, '-q']);
      expect(e.stderr).toMatch(/enqueue: 1 added/);
      await until('the job done on D', () => logged(w.log, 'done').includes(clip), 120_000);
      expect(w.log).toMatch(new RegExp(`^\\S+ converting ${ckpt.replace(/[.]/g, '\\.')} to ONNX on first use \\(cached as ${join(dir, 'models', 'converted').replace(/[.]/g, '\\.')}/[0-9a-f]{64}\\.onnx\\)$`, 'm'));
      expect(w.log).toMatch(/^\S+ converted: midas-dpt-base-64 \(from the keys and shapes\)/m);
      expect(w.log).not.toMatch(/warning: (converting|converted)/);
    } finally {
      w.proc.kill('SIGINT');
      await w.exited;
    }
  }, 180_000);
});

describe('queue commands without Redis', () => {
  it('says in one line when Redis cannot be reached', async () => {
    const r = await runCli(['queue', 'status', '--redis', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start redis-server there, or fix --redis/);
    const u = await runCli(['worker', '--redis', 'localhost:6379']);
    expect(u.code).toBe(2);
    expect(errorLine(u.stderr)).toMatch(/--redis localhost:6379 is not a Redis URL/);
  });
});
