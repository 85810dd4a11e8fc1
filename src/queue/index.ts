/**
 * The BullMQ queue as a library (`depth-video/queue`), apart from the main
 * entry so that importing depth-video does not load BullMQ and ioredis.
 */
export { QUEUE_NAME } from './connection.js';
export { enqueueFiles, type EnqueueOptions, type EnqueueReport, type EnqueueSummary } from './enqueue.js';
export { runWorker, type WorkerOptions, type WorkerHooks, type WorkerEvent } from './worker.js';
export { queueStatus, type QueueStatus } from './status.js';
export type { JobData, JobResult, JobProgress } from './jobs.js';
