/**
 * The resource job kinds and how each is enqueued: the one place that knows their names,
 * dedupe keys, payloads and attempts. The request side enqueues through `ResourceJobs`
 * without knowing any of it; the handlers (one file per kind) read the payloads. Every job
 * names its resource and is pinned to the resource's host (none: any replica runs it).
 */

import { sql } from 'kysely';
import { isSlipwayError } from '../../errors.js';
import { JOB_PRIORITY, JOBS_CHANNEL } from '../../jobs/job-queue.js';
import type { ClaimedJob, JobScheduler } from '../../jobs/job-scheduler.js';
import type { Executor } from '../../storage/executor.js';
import type { ResourceRow } from '../resource-mapper.js';
import type { ResourcePolicy } from '../resource-policy.js';

export const JOB_KINDS = {
  allocate: 'resource.allocate',
  release: 'resource.release',
  cleanup: 'resource.cleanup',
  operate: 'resource.operate',
  /** The release of a batch of expired resources (expiry-job.ts). */
  expire: 'resource.expire',
} as const;

/** Expired resources per `resource.expire` job: one claim, read and finish for this many releases. */
export const EXPIRE_JOB_BATCH = 50;

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
   * Make sure a RELEASING resource has a live release: `release`, unless a `resource.expire`
   * batch that names it is still active (that batch releases it, or hands it to a release job
   * of its own if it fails there). Undefined when nothing was enqueued.
   */
  ensureRelease(db: Executor, now: Date, resourceId: string, cause: ReleaseCause): Promise<number | undefined>;
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
   * Release expired resources (the expiry sweep's batch), in one statement: a
   * `resource.expire` job per `EXPIRE_JOB_BATCH` of them on the same host. Returns how many jobs.
   */
  releaseExpired(db: Executor, now: Date, resourceIds: readonly string[]): Promise<number>;
  /**
   * A release job each (`release(…, { reason: 'expired' })`, deduplicated), in one statement:
   * for the expired resources whose batch release failed, to be retried one by one.
   */
  releaseEach(db: Executor, now: Date, resourceIds: readonly string[]): Promise<number>;
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
  const release: ResourceJobs['release'] = (db, now, resourceId, cause) =>
    scheduler.enqueue(db, now, {
      kind: JOB_KINDS.release,
      payload: { resourceId, ...cause },
      key: jobKeys.release(resourceId),
      maxAttempts: RETRY_FOREVER,
      // A user waits for their release; an expiry is bulk work.
      priority: cause.reason === 'user' ? JOB_PRIORITY.user : JOB_PRIORITY.background,
    });
  return {
    allocate: (db, now, resourceId, opts = {}) => {
      const job = {
        kind: JOB_KINDS.allocate,
        payload: { resourceId },
        key: jobKeys.allocate(resourceId),
        maxAttempts: policy.allocateAttempts,
        priority: JOB_PRIORITY.user,
      };
      return opts.here ? base.enqueueHere(db, now, job) : scheduler.enqueue(db, now, job);
    },
    release,
    async ensureRelease(db, now, resourceId, cause) {
      // Active expire jobs are few (a 10k backlog is 200): a scan of the active ones is cheap.
      const batched = await sql`select 1 from jobs where kind = ${JOB_KINDS.expire} and state in ('queued', 'running')
        and payload->'resourceIds' @> jsonb_build_array(${resourceId}::text) limit 1`.execute(db);
      return batched.rows.length > 0 ? undefined : release(db, now, resourceId, cause);
    },
    cleanup: (db, now, resourceId, opts = {}) =>
      scheduler.enqueue(db, now, {
        kind: JOB_KINDS.cleanup,
        payload: { resourceId },
        ...((opts.dedupe ?? true) ? { key: jobKeys.cleanup(resourceId) } : {}),
        maxAttempts: RETRY_FOREVER,
        priority: JOB_PRIORITY.background,
      }),
    operate: (db, now, resourceId, operationId) =>
      scheduler.enqueue(db, now, {
        kind: JOB_KINDS.operate,
        payload: { resourceId, operationId },
        key: jobKeys.operate(operationId),
        maxAttempts: policy.operationAttempts,
        priority: JOB_PRIORITY.user,
      }),
    releaseExpired: (db, now, resourceIds) => enqueueExpiryBatches(db, now, resourceIds),
    releaseEach: (db, now, resourceIds) => enqueueExpiredReleases(db, now, resourceIds),
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

async function enqueueExpiryBatches(db: Executor, now: Date, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  // Pinned to the resources' host like every resource job: one batch never spans two hosts.
  const res =
    await sql`insert into jobs (kind, payload, state, max_attempts, run_at, host, priority, created_at, updated_at)
    select ${JOB_KINDS.expire}, jsonb_build_object('resourceIds', jsonb_agg(id order by id)), 'queued',
      ${RETRY_FOREVER}, ${now}, host, ${JOB_PRIORITY.background}, ${now}, ${now}
    from (select id, host, (row_number() over (partition by host order by id) - 1) / ${EXPIRE_JOB_BATCH} as chunk
          from resources where id = any(${[...ids]}::uuid[])) r
    group by host, chunk`.execute(db);
  await sql`select pg_notify(${JOBS_CHANNEL}, ${JOB_KINDS.expire})`.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}

async function enqueueExpiredReleases(db: Executor, now: Date, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  // Pinned to each resource's host, deduplicated by key, like `release` (job-queue.ts enqueueJob).
  const res =
    await sql`insert into jobs (kind, payload, state, key, max_attempts, run_at, host, priority, created_at, updated_at)
    select ${JOB_KINDS.release}, jsonb_build_object('resourceId', id, 'reason', 'expired'), 'queued',
      ${jobKeys.release('')} || id::text, ${RETRY_FOREVER}, ${now}, host, ${JOB_PRIORITY.background}, ${now}, ${now}
    from resources where id = any(${[...ids]}::uuid[])
    on conflict (key) where state in ('queued', 'running') do nothing`.execute(db);
  await sql`select pg_notify(${JOBS_CHANNEL}, ${JOB_KINDS.release})`.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}

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
