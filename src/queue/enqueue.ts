import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { discoverInputs, outDirPath, planOutputs } from '../batch/discover.js';
import { validateFileOptions, type FileOptions } from '../batch/options.js';
import { connectRedis, QUEUE_NAME } from './connection.js';
import { jobIdFor, type JobData } from './jobs.js';

export interface EnqueueOptions {
  readonly redis: string;
  /** Folders, .txt lists, globs, files: as for a batch. */
  readonly inputs: readonly string[];
  /** A folder every worker sees at the same path. */
  readonly outDir: string;
  readonly options: FileOptions;
  /** Redo files whose output exists or whose job has finished or failed. */
  readonly overwrite?: boolean;
  /** Tries per job before it stays failed (deterministic failures, such as a file that is not media, are not retried). */
  readonly attempts?: number;
  /** First retry delay; each next one doubles. */
  readonly backoffMs?: number;
  readonly onJob?: (r: EnqueueReport) => void;
}

export interface EnqueueReport {
  readonly input: string;
  readonly output: string;
  readonly id: string;
  /**
   * added: a new job; exists: this job, or another one making the same
   * output, is already known (its id and state say which and how far it got);
   * skipped: the output exists.
   */
  readonly status: 'added' | 'exists' | 'skipped';
  /** BullMQ's state of an existing job (waiting, active, completed, failed, delayed…). */
  readonly state: string | null;
}

export interface EnqueueSummary {
  readonly added: number;
  readonly existing: number;
  readonly skipped: number;
  readonly jobs: readonly EnqueueReport[];
}

/**
 * Adds one BullMQ job per input file. Job ids are derived from the input,
 * the output and the options, so enqueuing the same files again adds
 * nothing (BullMQ ignores an id it already holds, which also settles two
 * enqueues racing); while a job for an output is unfinished, no other job
 * for that output is added (BullMQ deduplication), so two workers never
 * write one file; outputs that already exist are left alone unless
 * `overwrite`.
 */
export async function enqueueFiles(o: EnqueueOptions): Promise<EnqueueSummary> {
  const options = validateFileOptions(o.options, 'options');
  const outDir = outDirPath(o.outDir);
  const { items } = await discoverInputs(o.inputs, { skip: outDir });
  const outputs = planOutputs(items, outDir, options.videoExt);
  const connection = await connectRedis(o.redis);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection });
  const jobs: EnqueueReport[] = [];
  const report = (r: EnqueueReport) => { jobs.push(r); o.onJob?.(r); };
  try {
    for (const [i, item] of items.entries()) {
      const output = outputs[i]!;
      const id = jobIdFor(item.input, output, options);
      const base = { input: item.input, output, id };
      const existing = await queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        const finished = state === 'completed' || state === 'failed';
        if (!(o.overwrite && finished)) { report({ ...base, status: 'exists', state }); continue; }
        await existing.remove();
      }
      if (!o.overwrite && (await stat(output).catch(() => null))) { report({ ...base, status: 'skipped', state: null }); continue; }
      const data: JobData = { input: item.input, output, still: item.still, options, overwrite: o.overwrite ?? false };
      const job = await queue.add('render', data, {
        jobId: id,
        // One unfinished job per output: the same files enqueued with other options into the same folder wait their turn.
        deduplication: { id: `out-${createHash('sha256').update(output).digest('hex').slice(0, 32)}` },
        attempts: o.attempts ?? 3,
        backoff: { type: 'exponential', delay: o.backoffMs ?? 10_000 },
        // Kept: finished ids make enqueuing idempotent, failed ones keep their error for `queue status`.
        removeOnComplete: false,
        removeOnFail: false,
      });
      if (job.id === id) report({ ...base, status: 'added', state: null });
      else report({ ...base, id: String(job.id), status: 'exists', state: await job.getState() });
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
  const count = (s: EnqueueReport['status']) => jobs.filter((j) => j.status === s).length;
  return { added: count('added'), existing: count('exists'), skipped: count('skipped'), jobs };
}
