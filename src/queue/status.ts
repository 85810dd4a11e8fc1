import { Queue } from 'bullmq';
import { connectRedis, QUEUE_NAME } from './connection.js';
import type { JobData, JobProgress, JobResult } from './jobs.js';

export interface QueueStatus {
  readonly counts: { readonly waiting: number; readonly active: number; readonly delayed: number; readonly completed: number; readonly failed: number };
  readonly active: readonly { readonly id: string; readonly input: string; readonly worker: string | null; readonly progress: JobProgress | null }[];
  /** Waiting to be retried after a failed attempt. */
  readonly retrying: readonly { readonly id: string; readonly input: string; readonly attempts: number; readonly error: string }[];
  readonly failed: readonly { readonly id: string; readonly input: string; readonly attempts: number; readonly error: string }[];
  /** Only with `completed: true`. */
  readonly completed: readonly { readonly id: string; readonly input: string; readonly result: JobResult | null }[];
}

function progressOf(p: unknown): JobProgress | null {
  return p && typeof p === 'object' && typeof (p as JobProgress).frames === 'number' ? (p as JobProgress) : null;
}

/** Counts per state, the active jobs with their progress, and every failed job with its error. */
export async function queueStatus(redis: string, opts: { completed?: boolean } = {}): Promise<QueueStatus> {
  const connection = await connectRedis(redis);
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection });
  try {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    const [active, delayed, failed, completed] = await Promise.all([
      queue.getActive(0, -1), queue.getDelayed(0, -1), queue.getFailed(0, -1), opts.completed ? queue.getCompleted(0, -1) : Promise.resolve([]),
    ]);
    const input = (d: unknown) => (d as Partial<JobData> | null)?.input ?? '(no input)';
    return {
      counts: { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 },
      active: active.map((j) => ({ id: String(j.id), input: input(j.data), worker: j.processedBy ?? null, progress: progressOf(j.progress) })),
      retrying: delayed.filter((j) => j.failedReason).map((j) => ({ id: String(j.id), input: input(j.data), attempts: j.attemptsMade, error: j.failedReason })),
      failed: failed.map((j) => ({ id: String(j.id), input: input(j.data), attempts: j.attemptsMade, error: j.failedReason })),
      completed: completed.map((j) => ({ id: String(j.id), input: input(j.data), result: (j.returnvalue as JobResult | undefined) ?? null })),
    };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
