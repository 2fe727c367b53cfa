/**
 * Taking due jobs: queued ones whose time has come and running ones whose lease ran out (their
 * runner died), with FOR UPDATE SKIP LOCKED so runners never take the same job. A job pinned to
 * a host is taken only by the runner serving it, and only while the host's row is up and names
 * that runner: after a takeover, before the old runner's next heartbeat notices, it is not its.
 *
 * Taking a queued job begins an attempt (`attempts + 1`). Taking over a running one continues
 * the attempt its dead runner began: a crash is no failure of the job, so it uses up no attempt
 * (only a recorded error does, job-outcome-recorder.ts `fail`); the takeover goes into `history`. Up to
 * `MAX_TAKEOVERS_PER_ATTEMPT`: a job that keeps killing its runners then uses attempts up too.
 *
 * One statement, two index scans: leases that ran out (`jobs_leases`) first, then queued jobs
 * in claim order, priority then run_at (`jobs_queued`), both optionally narrowed to a priority
 * band and to kinds, so a runner can keep slots for user-facing work and cap a kind.
 */
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { SlipwayDatabase } from '../storage/schema.js';
import { appendHistory, takeoverAttempt, takeoverEntry } from './job-history.js';
import type { Job } from './job-runner.js';

/** A job kind, or every kind with a prefix when it ends in `*` (as `JobRunner.register` takes them). */
export type KindPattern = string;

export interface ClaimOptions {
  now: Date;
  leaseMs: number;
  workerId: string;
  /** The hosts this runner serves. */
  hosts: readonly string[];
  limit: number;
  /** Take only this job (runNow). */
  onlyId?: number;
  /** Jobs this runner is running: never taken again by it, even once their lease lapsed. */
  running?: readonly number[];
  /** Only jobs with `priority < below` / `priority >= atLeast`. */
  priority?: { below?: number; atLeast?: number };
  /** Only jobs of this kind pattern; none of these. */
  kinds?: { only?: KindPattern; except?: readonly KindPattern[] };
}

type Jobs = ExpressionBuilder<SlipwayDatabase, 'jobs'>;

export function claimJobs(db: Kysely<SlipwayDatabase>, c: ClaimOptions): Promise<Job[]> {
  const { now, workerId, limit } = c;
  const until = new Date(now.getTime() + c.leaseMs);
  return db
    .with('expired', (qb) =>
      qb
        .selectFrom('jobs')
        .select('id')
        // A running job whose lease ran out: its runner died. Take it over.
        .where('state', '=', 'running')
        .where('locked_until', '<', now)
        .where((w) => eligible(w, c))
        .orderBy('locked_until')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .with('queued', (qb) =>
      qb
        .selectFrom('jobs')
        .select('id')
        .where('state', '=', 'queued')
        .where('run_at', '<=', now)
        .where((w) => eligible(w, c))
        .orderBy('priority')
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('jobs')
    .set({
      state: 'running',
      // SET reads the row as it was: `state` and `locked_by` are the old ones here.
      attempts: sql<number>`case when state = 'running' then ${takeoverAttempt()} else attempts + 1 end`,
      history: sql<string>`case when state = 'running' then ${appendHistory(takeoverEntry(now, workerId))} else history end`,
      locked_by: workerId,
      locked_until: until,
      updated_at: now,
    })
    .where(
      'id',
      'in',
      sql<number>`(select id from (select id, 0 as o from expired union all select id, 1 from queued) due order by o limit ${limit})`,
    )
    .returningAll()
    .execute();
}

/** What this runner may take: its hosts' jobs, the band and kinds asked for, not its own running ones. */
function eligible(w: Jobs, c: ClaimOptions): Expression<SqlBool> {
  const hosts = [...c.hosts];
  const and: Expression<SqlBool>[] = [
    // Pinned jobs only on their host's replica (runNow included: it leaves them to that replica),
    // and only while its row says so: after a takeover, before our next heartbeat notices, not ours.
    hosts.length > 0
      ? w.or([
          w('host', 'is', null),
          w.and([
            w('host', 'in', hosts),
            w.exists(
              w
                .selectFrom('hosts')
                .select('hosts.name')
                .whereRef('hosts.name', '=', 'jobs.host')
                .where('hosts.replica_id', '=', c.workerId)
                .where('hosts.state', '=', 'up'),
            ),
          ]),
        ])
      : w('host', 'is', null),
  ];
  if (c.onlyId !== undefined) and.push(w('id', '=', c.onlyId));
  // Our own lease lapsed (a blocked event loop, a slow heartbeat): that run goes on; a
  // second one here would run the job twice at once under the same lease.
  if (c.running && c.running.length > 0) and.push(w('id', 'not in', [...c.running]));
  if (c.priority?.below !== undefined) and.push(w('priority', '<', c.priority.below));
  if (c.priority?.atLeast !== undefined) and.push(w('priority', '>=', c.priority.atLeast));
  if (c.kinds?.only !== undefined) and.push(kindIs(w, c.kinds.only));
  for (const k of c.kinds?.except ?? []) and.push(w.not(kindIs(w, k)));
  return w.and(and);
}

function kindIs(w: Jobs, pattern: KindPattern): Expression<SqlBool> {
  if (!pattern.endsWith('*')) return w('kind', '=', pattern);
  const prefix = pattern.slice(0, -1).replace(/[\\%_]/g, (ch) => `\\${ch}`);
  return w('kind', 'like', `${prefix}%`);
}
