/**
 * Taking due jobs: queued ones whose time has come and running ones whose lease ran out (their
 * runner died), with FOR UPDATE SKIP LOCKED so runners never take the same job. A job pinned to
 * a host is taken only by the runner serving it, and only while the host's row is up and names
 * that runner: after a takeover, before the old runner's next heartbeat notices, it is not its.
 *
 * Taking a queued job begins an attempt (`attempts + 1`). Taking over a running one continues
 * the attempt its dead runner began: a crash is no failure of the job, so it uses up no attempt
 * (only a recorded error does, job-runner.ts `#fail`); the takeover goes into `history`. Up to
 * `MAX_TAKEOVERS_PER_ATTEMPT`: a job that keeps killing its runners then uses attempts up too.
 */
import { type Kysely, sql } from 'kysely';
import type { SlipwayDatabase } from '../storage/schema.js';
import { appendHistory, takeoverAttempt, takeoverEntry } from './job-history.js';
import type { Job } from './job-runner.js';

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
}

export function claimJobs(db: Kysely<SlipwayDatabase>, c: ClaimOptions): Promise<Job[]> {
  const { now, workerId, limit, onlyId } = c;
  const until = new Date(now.getTime() + c.leaseMs);
  const hosts = [...c.hosts];
  return db
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
    .where('id', 'in', (eb) => {
      let q = eb
        .selectFrom('jobs')
        .select('id')
        .where((w) =>
          w.or([
            w.and([w('state', '=', 'queued'), w('run_at', '<=', now)]),
            // A running job whose lease ran out: its runner died. Take it over.
            w.and([w('state', '=', 'running'), w('locked_until', '<', now)]),
          ]),
        )
        // Pinned jobs only on their host's replica (runNow included: it leaves them to that replica),
        // and only while its row says so: after a takeover, before our next heartbeat notices, not ours.
        .where((w) =>
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
                      .where('hosts.replica_id', '=', workerId)
                      .where('hosts.state', '=', 'up'),
                  ),
                ]),
              ])
            : w('host', 'is', null),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked();
      if (onlyId !== undefined) q = q.where('id', '=', onlyId);
      // Our own lease lapsed (a blocked event loop, a slow heartbeat): that run goes on; a
      // second one here would run the job twice at once under the same lease.
      if (c.running && c.running.length > 0) q = q.where('id', 'not in', [...c.running]);
      return q;
    })
    .returningAll()
    .execute();
}
