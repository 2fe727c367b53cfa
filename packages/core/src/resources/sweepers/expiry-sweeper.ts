/**
 * Resources past `expiresAt`: mark RELEASING and enqueue their (background-priority) release,
 * a batch per transaction, until none is due. The scan is the partial index
 * `resources_expiry`, so its cost grows with what is due, not with the table.
 */
import { sql } from 'kysely';
import type { Executor } from '../../storage/executor.js';
import type { ResourceRow } from '../resource-mapper.js';
import type { WorkerDeps } from '../worker-deps.js';

/** Resources claimed per transaction: short enough not to hold the event-order lock for long. */
export const EXPIRY_BATCH = 250;

/**
 * What may expire: a machine that failed after it ran still exists at the provider, and one
 * whose host went silent (UNKNOWN; its release waits for the host) expires too. The index
 * `resources_expiry` (migration 008) has this predicate word for word, with literals: the
 * planner uses a partial index only when it can prove the query implies its predicate.
 */
const EXPIRABLE = sql<boolean>`(status in ('RUNNING', 'STOPPED', 'UNKNOWN') or (status = 'FAILED' and external_id is not null))`;

/** Start the release of every resource past its `expiresAt`; returns how many. */
export async function sweepExpired(d: Pick<WorkerDeps, 'db' | 'clock' | 'events' | 'jobs'>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await expireBatch(d, EXPIRY_BATCH);
    total += n;
    if (n < EXPIRY_BATCH) return total;
  }
}

async function expireBatch(d: Pick<WorkerDeps, 'db' | 'clock' | 'events' | 'jobs'>, limit: number): Promise<number> {
  return d.db.transaction().execute(async (trx) => {
    const now = d.clock.now();
    const rows = await claimExpired(trx, now, limit);
    await d.jobs.releaseExpired(
      trx,
      now,
      rows.map((r) => r.id),
    );
    // Events last, in one statement: an event append holds the event-order lock until commit.
    await d.events.appendMany(
      trx,
      rows.map((r) => ({
        type: 'vm' as const,
        action: 'resource.expiring',
        ownerId: r.owner_id,
        resourceId: r.id,
        data: { expiresAt: r.expires_at?.toISOString() ?? null },
      })),
    );
    return rows.length;
  });
}

/**
 * Claim up to `limit` resources past `expiresAt` for release (→ RELEASING), the longest
 * overdue first, skipping rows another replica holds.
 */
export function claimExpired(
  db: Executor,
  now: Date,
  limit: number,
): Promise<Pick<ResourceRow, 'id' | 'owner_id' | 'expires_at'>[]> {
  return db
    .updateTable('resources')
    .set({ status: 'RELEASING', updated_at: now })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('resources')
        .select('id')
        .where(EXPIRABLE)
        .where('expires_at', '<=', now)
        .orderBy('expires_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'owner_id', 'expires_at'])
    .execute();
}
