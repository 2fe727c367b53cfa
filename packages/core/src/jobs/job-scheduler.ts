/**
 * What the request side needs of the job system, and no more: enqueue a job inside its
 * transaction, and ask for a job to run now on this replica (the fast path of a request
 * that waits for its own job). The job runner stays behind it.
 */
import type { Executor } from '../storage/executor.js';
import { type EnqueueInput, enqueueJob } from './job-queue.js';

export interface JobScheduler {
  /** Enqueue in `db`'s transaction; the job id, or undefined when a job with the same key is active. */
  enqueue(db: Executor, now: Date, job: EnqueueInput): Promise<number | undefined>;
  /** Run the job here now if it is still queued and due; false when another runner has it. */
  runNow(jobId: number): Promise<boolean>;
}

/** A scheduler over the jobs table and a runner (`JobRunner` fits). */
export function jobScheduler(runner: { runNow(jobId: number): Promise<boolean> }): JobScheduler {
  return { enqueue: enqueueJob, runNow: (jobId) => runner.runNow(jobId) };
}
