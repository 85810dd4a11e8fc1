import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { openSession, renderFile } from '../batch/file-job.js';
import { sessionKey, type FileOptions } from '../batch/options.js';
import { errorText, isDepthVideoError, type ErrorCode } from '../errors.js';
import type { DepthSession, ModelDescription } from '../inference/session.js';
import { connectRedis, QUEUE_NAME } from './connection.js';
import { validateJobData, type JobData, type JobProgress, type JobResult } from './jobs.js';

/**
 * Failures that another attempt cannot fix: the input, the options or the
 * output path are wrong. They fail the job at once instead of spending its
 * retries. Everything else (ffmpeg, a model that is not here yet, a shared
 * folder that hiccuped, a worker out of memory) is retried.
 */
const DETERMINISTIC: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INPUT_MISSING', 'INPUT_NOT_MEDIA', 'INPUT_DAMAGED', 'OUTPUT_EXISTS', 'OUTPUT_FORMAT', 'MODEL_UNKNOWN', 'MODEL_SHAPE', 'PIPELINE_CONFIG', 'USAGE']);

export interface WorkerEvent {
  readonly id: string;
  readonly input: string;
  readonly output: string;
  /** 1 for the first time the job runs anywhere; retries and stalled jobs count up. */
  readonly attempt: number;
}

export interface WorkerHooks {
  onReady?(name: string): void;
  onModel?(model: ModelDescription): void;
  onJobStart?(e: WorkerEvent): void;
  onJobDone?(e: WorkerEvent & { readonly result: JobResult }): void;
  /** `retry`: BullMQ will try the job again (here or on another worker). */
  onJobFailed?(e: WorkerEvent & { readonly message: string; readonly retry: boolean }): void;
  /** Stopped on a signal: the job went back to the queue, whole. */
  onJobReturned?(e: WorkerEvent): void;
  onWarning?(line: string): void;
  /** What is being done that takes a while, e.g. a checkpoint converted on first use (not a warning). */
  onNote?(line: string): void;
}

export interface WorkerOptions {
  readonly redis: string;
  /** Jobs at once in this process; they share one model session. */
  readonly concurrency: number;
  /**
   * How long a job's lock lives without renewal. BullMQ renews it every half
   * of this while the job runs (rendering leaves the event loop free), so it
   * bounds how soon a dead worker's job is noticed, not how long a file may take.
   */
  readonly lockDurationMs: number;
  /** How often this worker looks for jobs whose lock lapsed (their worker died) and puts them back. */
  readonly stalledIntervalMs: number;
  /** Times a job may be put back after its worker died before it is failed (a file that kills every worker). */
  readonly maxStalledCount: number;
  readonly allowDownload: boolean;
  readonly name?: string;
  /** Aborting stops taking jobs; jobs in progress are stopped and put back on the queue. */
  readonly signal: AbortSignal;
  readonly hooks?: WorkerHooks;
}

/**
 * Sessions by what they load (model, device, threads, preprocessing): jobs
 * with the same options share one, as a batch does. A job needing another
 * model closes the idle ones first, so a worker holds one model unless jobs
 * with different models run at the same time.
 */
class SessionPool {
  private readonly sessions = new Map<string, { session: Promise<DepthSession>; users: number }>();

  constructor(private readonly allowDownload: boolean, private readonly hooks: WorkerHooks | undefined) {}

  async use<T>(o: FileOptions, signal: AbortSignal, fn: (s: DepthSession) => Promise<T>): Promise<T> {
    const key = sessionKey(o);
    let slot = this.sessions.get(key);
    if (!slot) {
      for (const [k, s] of this.sessions) {
        if (s.users === 0) { this.sessions.delete(k); void s.session.then((x) => x.close(), () => undefined); }
      }
      const session = openSession(o, { allowDownload: this.allowDownload, signal, onWarning: this.hooks?.onWarning, onNote: this.hooks?.onNote });
      slot = { session, users: 0 };
      this.sessions.set(key, slot);
      session.then((s) => this.hooks?.onModel?.(s.model), () => this.sessions.delete(key));
    }
    slot.users++;
    try {
      return await fn(await slot.session);
    } finally {
      slot.users--;
    }
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.session.then((x) => x.close(), () => undefined)));
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

/**
 * Runs BullMQ jobs with the batch pipeline until `signal` aborts. Each job
 * renders one file through a temporary name and a rename, so a job retried
 * after its worker died never finds, or leaves, half an output.
 */
export async function runWorker(o: WorkerOptions): Promise<{ readonly done: number; readonly failed: number }> {
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const connection = await connectRedis(o.redis);
  const sessions = new SessionPool(o.allowDownload, o.hooks);
  const running = new Map<string, AbortController>();
  let done = 0;
  let failed = 0;

  const processJob = async (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> => {
    const ev0 = { id: String(job.id), input: String((job.data as Partial<JobData>)?.input ?? '?'), output: String((job.data as Partial<JobData>)?.output ?? '?'), attempt: job.attemptsStarted };
    let data: JobData;
    try {
      data = validateJobData(job.data, `job ${job.id}`);
    } catch (e) {
      throw new UnrecoverableError(errorText(e));
    }
    o.hooks?.onJobStart?.(ev0);
    // A later attempt may find the output its own earlier attempt renamed into place just before dying.
    if (job.attemptsStarted <= 1 && !data.overwrite && (await exists(data.output))) {
      throw new UnrecoverableError(`output ${data.output} already exists: enqueue with --overwrite to replace it`);
    }
    const ac = new AbortController();
    running.set(ev0.id, ac);
    try {
      let last = 0;
      const s = await sessions.use(data.options, ac.signal, (session) => renderFile(session, data.input, data.output, data.still, data.options, {
        signal: ac.signal,
        keepInterrupted: false,
        onWarning: o.hooks?.onWarning,
        onProgress: (p) => {
          const now = performance.now();
          if (now - last < 1000) return;
          last = now;
          const progress: JobProgress = { frames: p.done, total: p.total };
          job.updateProgress(progress).catch(() => undefined);
        },
      }));
      if (s.interrupted) throw new WaitingError();
      return { output: data.output, frames: s.frames.written, wallMs: s.wallMs, damage: s.damage, worker: name, model: s.model.label, untrained: s.model.untrained };
    } catch (e) {
      if (ac.signal.aborted) {
        // Stopping: the job goes back whole, without counting as an attempt.
        await job.moveToWait(token);
        o.hooks?.onJobReturned?.(ev0);
        throw new WaitingError();
      }
      if (isDepthVideoError(e) && DETERMINISTIC.has(e.code)) throw new UnrecoverableError(e.message);
      throw isDepthVideoError(e) ? e : new Error(`unexpected error: ${errorText(e)}`);
    } finally {
      running.delete(ev0.id);
    }
  };

  const worker = new Worker<JobData, JobResult>(QUEUE_NAME, processJob, {
    connection,
    name,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount,
    autorun: false,
  });
  worker.on('completed', (job, result) => {
    done++;
    o.hooks?.onJobDone?.({ id: String(job.id), input: job.data.input, output: job.data.output, attempt: job.attemptsStarted, result });
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof WaitingError || err.name === 'WaitingError') return;
    const retry = !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
    if (!retry) failed++;
    o.hooks?.onJobFailed?.({ id: String(job.id), input: job.data.input, output: job.data.output, attempt: job.attemptsStarted, message: err.message, retry });
  });
  worker.on('error', (e) => o.hooks?.onWarning?.(`queue: ${errorText(e)}`));

  const stopped = new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.waitUntilReady();
  o.hooks?.onReady?.(name);
  const runLoop = worker.run();
  await Promise.race([stopped, runLoop]);
  for (const ac of running.values()) ac.abort();
  await worker.close();
  await runLoop.catch(() => undefined);
  await sessions.close();
  connection.disconnect();
  return { done, failed };
}
