/**
 * The resource job kinds and how each is enqueued: the one place that knows their names,
 * dedupe keys, payloads and attempts. The request side enqueues through `ResourceJobs`
 * without knowing any of it; the handlers (one file per kind) read the payloads. Every job
 * names its resource and is pinned to the resource's host (none: any replica runs it).
 */
import { isSlipwayError } from '../../errors.js';
import type { ClaimedJob, JobScheduler } from '../../jobs/job-scheduler.js';
import type { Executor } from '../../storage/executor.js';
import type { ResourceRow } from '../resource-mapper.js';
import type { ResourcePolicy } from '../resource-policy.js';

export const JOB_KINDS = {
  allocate: 'resource.allocate',
  release: 'resource.release',
  cleanup: 'resource.cleanup',
  operate: 'resource.operate',
} as const;

/** Attempts of jobs that must eventually succeed (releases, cleanups): effectively forever. */
export const RETRY_FOREVER = 1_000_000;

export const jobKeys = {
  allocate: (id: string) => `allocate:${id}`,
  release: (id: string) => `release:${id}`,
  cleanup: (id: string) => `cleanup:${id}`,
  /** Per operation, not per resource: the next operation's job must not be deduped against a finishing one. */
  operate: (operationId: string) => `operate:${operationId}`,
};

/** Why a release was asked for, carried in its payload. */
export type ReleaseCause = { reason: 'user'; actorId: string } | { reason: 'expired' };

/** Enqueue resource work in the caller's transaction, and run a job now. */
export interface ResourceJobs {
  /**
   * Allocate a PROVISIONING resource; at most one allocate job is active per resource.
   * `here`: claimed by this replica in the same insert, for the request to run (only for a
   * resource on no host: a host's jobs are its replica's).
   */
  allocate(db: Executor, now: Date, resourceId: string, opts?: { here?: boolean }): Promise<JobTicket | undefined>;
  /** Release a RELEASING resource at the provider; at most one release job is active per resource. */
  release(db: Executor, now: Date, resourceId: string, cause: ReleaseCause): Promise<number | undefined>;
  /**
   * Make sure nothing is left at the provider after a failed allocation. `dedupe: false`
   * enqueues even while another cleanup is active, so one that already ran (and found
   * nothing yet) cannot swallow it.
   */
  cleanup(db: Executor, now: Date, resourceId: string, opts?: { dedupe?: boolean }): Promise<number | undefined>;
  /**
   * Run the resource's claimed operation (power, resize, hotplug) at the provisioner; one job
   * per operation (the resource's operation slot allows one at a time).
   */
  operate(db: Executor, now: Date, resourceId: string, operationId: string): Promise<number | undefined>;
  /**
   * Run the job on this replica now: a claimed one as claimed, a queued one if nobody has
   * taken it. The resource row its handler settled, when it returned one (the read-back).
   */
  runNow(ticket: JobTicket): Promise<ResourceRow | undefined>;
}

/** A job a request enqueued: its id, or the job itself when claimed by this replica. */
export type JobTicket = number | ClaimedJob;

export function resourceJobs(
  base: JobScheduler,
  policy: Pick<ResourcePolicy, 'allocateAttempts' | 'operationAttempts'>,
): ResourceJobs {
  const scheduler = pinnedToResourceHost(base);
  return {
    allocate: (db, now, resourceId, opts = {}) => {
      const job = {
        kind: JOB_KINDS.allocate,
        payload: { resourceId },
        key: jobKeys.allocate(resourceId),
        maxAttempts: policy.allocateAttempts,
      };
      return opts.here ? base.enqueueHere(db, now, job) : scheduler.enqueue(db, now, job);
    },
    release: (db, now, resourceId, cause) =>
      scheduler.enqueue(db, now, {
        kind: JOB_KINDS.release,
        payload: { resourceId, ...cause },
        key: jobKeys.release(resourceId),
        maxAttempts: RETRY_FOREVER,
      }),
    cleanup: (db, now, resourceId, opts = {}) =>
      scheduler.enqueue(db, now, {
        kind: JOB_KINDS.cleanup,
        payload: { resourceId },
        ...((opts.dedupe ?? true) ? { key: jobKeys.cleanup(resourceId) } : {}),
        maxAttempts: RETRY_FOREVER,
      }),
    operate: (db, now, resourceId, operationId) =>
      scheduler.enqueue(db, now, {
        kind: JOB_KINDS.operate,
        payload: { resourceId, operationId },
        key: jobKeys.operate(operationId),
        maxAttempts: policy.operationAttempts,
      }),
    async runNow(ticket) {
      if (typeof ticket === 'number') {
        await scheduler.runNow(ticket);
        return undefined;
      }
      const result = await scheduler.adopt(ticket);
      return isResourceRow(result) ? result : undefined;
    },
  };
}

/** The allocate handler answers with the row it settled; anything else is not a read-back. */
const isResourceRow = (value: unknown): value is ResourceRow =>
  typeof value === 'object' && value !== null && 'owner_id' in value && 'status' in value && 'request_id' in value;

/** Every job enqueued through it runs on the replica serving its resource's host (`payload.resourceId`). */
function pinnedToResourceHost(scheduler: JobScheduler): JobScheduler {
  return {
    ...scheduler,
    enqueue: (db, now, job) => scheduler.enqueue(db, now, { ...job, hostOf: payloadResourceId(job.payload) }),
  };
}

/** Errors worth another attempt: time-outs and errors a provisioner marks `retryable`. */
export function isTransient(error: unknown): boolean {
  return isSlipwayError(error) && (error.code === 'PROVISIONER_TIMEOUT' || error.retryable);
}

/** The resource a job's payload names. */
export const payloadResourceId = (payload: Record<string, unknown>): string => String(payload.resourceId);
