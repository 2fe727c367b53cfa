/**
 * Durable jobs in PostgreSQL. Enqueue inside the caller's transaction, so the job exists
 * if and only if the state change that needs it committed.
 */
import { type InsertObject, sql } from 'kysely';
import type { Executor } from '../storage/executor.js';
import { jsonb } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import type { Job } from './job-runner.js';

export const JOBS_CHANNEL = 'slipway_jobs';

export interface EnqueueInput {
  kind: string;
  payload: Record<string, unknown>;
  /** At most one queued/running job per key: a second enqueue is a no-op. */
  key?: string | null;
  maxAttempts?: number;
  runAt?: Date;
  /** Only the replica serving this host may run the job (default: any replica). */
  host?: string | null;
  /** Pin the job to the host of this resource (its `host` column, read in the insert). */
  hostOf?: string;
}

/** Who runs a job enqueued already claimed, and until when its lease holds. */
export interface JobClaim {
  by: string;
  until: Date;
}

/** Returns the job id, or undefined when a job with the same key is already active. */
export async function enqueueJob(db: Executor, now: Date, job: EnqueueInput): Promise<number | undefined> {
  const row = await db
    .insertInto('jobs')
    .values(jobValues(now, job))
    .onConflict((oc) => oc.column('key').where('state', 'in', ['queued', 'running']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (row) await sql`select pg_notify(${JOBS_CHANNEL}, ${job.kind})`.execute(db);
  return row?.id;
}

/**
 * Enqueue a job already claimed by `claim.by`, its first attempt begun: the request that
 * enqueues it runs it (JobRunner.adopt) without a second round trip to claim it. No NOTIFY:
 * no other runner is to take it unless its lease runs out (the enqueuer died), as with any
 * claimed job. Unpinned jobs only: a pinned one belongs to its host's runner. Undefined
 * when a job with the same key is already active.
 */
export async function enqueueClaimedJob(
  db: Executor,
  now: Date,
  job: Omit<EnqueueInput, 'host' | 'hostOf'>,
  claim: JobClaim,
): Promise<Job | undefined> {
  return db
    .insertInto('jobs')
    .values({
      ...jobValues(now, job),
      state: 'running',
      attempts: 1,
      locked_by: claim.by,
      locked_until: claim.until,
    })
    .onConflict((oc) => oc.column('key').where('state', 'in', ['queued', 'running']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

function jobValues(now: Date, job: EnqueueInput): InsertObject<SlipwayDatabase, 'jobs'> {
  return {
    kind: job.kind,
    payload: jsonb(job.payload),
    state: 'queued',
    key: job.key ?? null,
    max_attempts: job.maxAttempts ?? 8,
    run_at: job.runAt ?? now,
    host: job.hostOf
      ? (eb) =>
          eb
            .selectFrom('resources')
            .select('host')
            .where('id', '=', job.hostOf as string)
      : (job.host ?? null),
    created_at: now,
    updated_at: now,
  };
}
