/**
 * Retention: history that ages out after configurable periods (docs/operations.md), deleted
 * a bounded batch per statement, each an index range scan (migration 008), so a delete holds
 * few row locks and never blocks a writer for long; rows another transaction is changing
 * are skipped until the next sweep.
 *
 * The ledger is never pruned: ledger entries and reservations stay for ever. They name their
 * resource by id with no foreign key, so a pruned resource leaves every sum (`balance ==
 * sum(entries)`, `held == sum(pending)`) as it was. Finished jobs follow `keepDoneJobsMs`.
 */
import { type Kysely, sql } from 'kysely';
import type { SlipwayDatabase } from '../../storage/schema.js';
import { jobKeys } from '../jobs/resource-jobs.js';

export interface RetentionSettings {
  /** Events are deleted this long after they happened (ms); null keeps them. Default 90 days. */
  eventsMs: number | null;
  /**
   * Finished resources (RELEASED, EXPIRED, FAILED, GONE) are deleted this long after their last
   * change (ms), unless a job for them is still active; null keeps them. Default 30 days.
   */
  finishedResourcesMs: number | null;
  /**
   * Provisioner-store records of released machines (written with `retired: true`) are deleted
   * this long after they were retired (ms); null keeps them. Default 7 days.
   */
  releasedMachinesMs: number | null;
  /** Rows per delete statement. Default 500. */
  batchSize: number;
}

const DAY = 24 * 3_600_000;

export const DEFAULT_RETENTION: RetentionSettings = {
  eventsMs: 90 * DAY,
  finishedResourcesMs: 30 * DAY,
  releasedMachinesMs: 7 * DAY,
  batchSize: 500,
};

/** Rows deleted by one retention pass. */
export interface RetentionResult {
  events: number;
  resources: number;
  machines: number;
}

/**
 * Delete what aged out, batch by batch until none is left. Each period runs on the clock that
 * wrote its column: resources change at the core's `clock` time (`now`); events and store rows
 * are stamped with the wall clock (`wallNow`).
 */
export async function pruneRetained(
  db: Kysely<SlipwayDatabase>,
  times: { now: Date; wallNow: Date },
  s: RetentionSettings,
): Promise<RetentionResult> {
  const ago = (from: Date, ms: number) => new Date(from.getTime() - ms);
  const { batchSize: n } = s;
  const events =
    s.eventsMs === null
      ? 0
      : await inBatches(n, (limit) =>
          db
            .deleteFrom('events')
            .where('seq', 'in', (eb) =>
              eb
                .selectFrom('events')
                .select('seq')
                .where('created_at', '<', ago(times.wallNow, s.eventsMs ?? 0))
                .limit(limit)
                .forUpdate()
                .skipLocked(),
            )
            .executeTakeFirst(),
        );
  const resources =
    s.finishedResourcesMs === null
      ? 0
      : await inBatches(n, (limit) =>
          db
            .deleteFrom('resources')
            .where('id', 'in', (eb) =>
              eb
                .selectFrom('resources as r')
                .select('r.id')
                // `resources_finished`'s predicate word for word, with literals.
                .where(sql<boolean>`status in ('RELEASED', 'EXPIRED', 'FAILED', 'GONE')`)
                .where('r.updated_at', '<', ago(times.now, s.finishedResourcesMs ?? 0))
                // A FAILED resource with a machine still has it at the provider (the expiry sweep
                // releases it): forgetting it would leave the machine running.
                .where(sql<boolean>`not (r.status = 'FAILED' and r.external_id is not null)`)
                // A hold still pending on it would be stranded without its resource.
                .where(({ not, exists, selectFrom }) =>
                  not(
                    exists(
                      selectFrom('reservations')
                        .select('reservations.id')
                        .whereRef('reservations.resource_id', '=', 'r.id')
                        .where('reservations.state', '=', 'pending'),
                    ),
                  ),
                )
                // A cleanup (or a late release) still at work keeps its resource.
                .where(({ not, exists, selectFrom }) =>
                  not(
                    exists(
                      selectFrom('jobs')
                        .select('jobs.id')
                        .where('jobs.state', 'in', ['queued', 'running'])
                        .where((w) =>
                          w.or([
                            ...(['allocate', 'release', 'cleanup'] as const).map((k) =>
                              w('jobs.key', '=', sql<string>`${`${jobKeys[k]('')}`} || r.id::text`),
                            ),
                            // An operation's job is keyed by the operation, not the resource.
                            w(sql`jobs.payload->>'resourceId'`, '=', sql<string>`r.id::text`),
                          ]),
                        ),
                    ),
                  ),
                )
                .limit(limit)
                .forUpdate()
                .skipLocked(),
            )
            .executeTakeFirst(),
        );
  const machines =
    s.releasedMachinesMs === null
      ? 0
      : await inBatches(n, (limit) =>
          db
            .deleteFrom('provisioner_store')
            .where((eb) =>
              eb(
                eb.refTuple('namespace', 'key'),
                'in',
                eb
                  .selectFrom('provisioner_store')
                  .select(['namespace', 'key'])
                  .where('retired_at', '<', ago(times.wallNow, s.releasedMachinesMs ?? 0))
                  .limit(limit)
                  .forUpdate()
                  .skipLocked()
                  .$asTuple('namespace', 'key'),
              ),
            )
            .executeTakeFirst(),
        );
  return { events, resources, machines };
}

/** Run `batch` until it deletes fewer than `n` rows; returns how many it deleted in all. */
export async function inBatches(
  n: number,
  batch: (limit: number) => Promise<{ numDeletedRows: bigint }>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = Number((await batch(n)).numDeletedRows);
    total += deleted;
    if (deleted < n) return total;
  }
}
