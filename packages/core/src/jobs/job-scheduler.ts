/**
 * What the request side needs of the job system, and no more: enqueue a job inside its
 * transaction, enqueue one already claimed by this replica and run it (the fast path of a
 * request that waits for its own job), and run a queued job now. The job runner stays behind it.
 */
import type { Executor } from '../storage/executor.js';
import { type EnqueueInput, enqueueClaimedJob, enqueueJob, type JobClaim } from './job-queue.js';
import type { Job } from './job-runner.js';

/** A job this replica enqueued already claimed: only `adopt` runs it. */
export interface ClaimedJob {
  readonly job: Job;
}

export interface JobScheduler {
  /** Enqueue in `db`'s transaction; the job id, or undefined when a job with the same key is active. */
  enqueue(db: Executor, now: Date, job: EnqueueInput): Promise<number | undefined>;
  /**
   * Enqueue an unpinned job claimed by this replica, for the caller to `adopt` once its
   * transaction committed; the job id alone when this replica cannot claim it (stopping).
   */
  enqueueHere(
    db: Executor,
    now: Date,
    job: Omit<EnqueueInput, 'host' | 'hostOf'>,
  ): Promise<ClaimedJob | number | undefined>;
  /** Run a job `enqueueHere` claimed; what its handler returned (undefined if it failed). */
  adopt(claimed: ClaimedJob): Promise<unknown>;
  /** Run the job here now if it is still queued and due; false when another runner has it. */
  runNow(jobId: number): Promise<boolean>;
}

export interface SchedulingRunner {
  claimFor(now: Date): JobClaim | undefined;
  adopt(job: Job): Promise<unknown>;
  runNow(jobId: number): Promise<boolean>;
}

/** A scheduler over the jobs table and a runner (`JobRunner` fits). */
export function jobScheduler(runner: SchedulingRunner): JobScheduler {
  return {
    enqueue: enqueueJob,
    async enqueueHere(db, now, job) {
      const claim = runner.claimFor(now);
      if (!claim) return enqueueJob(db, now, job);
      const claimed = await enqueueClaimedJob(db, now, job, claim);
      return claimed ? { job: claimed } : undefined;
    },
    adopt: (claimed) => runner.adopt(claimed.job),
    runNow: (jobId) => runner.runNow(jobId),
  };
}
