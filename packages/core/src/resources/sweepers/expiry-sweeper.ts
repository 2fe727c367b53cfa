/** Resources past `expiresAt`: mark RELEASING and enqueue their release, in one transaction. */
import { claimExpired } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';

/** Start the release of up to 100 expired resources; returns how many. */
export async function sweepExpired(d: Pick<WorkerDeps, 'db' | 'clock' | 'events' | 'jobs'>): Promise<number> {
  return d.db.transaction().execute(async (trx) => {
    const now = d.clock.now();
    const rows = await claimExpired(trx, now, 100);
    for (const r of rows) await d.jobs.release(trx, now, r.id, { reason: 'expired' });
    // Events last: an event append holds the event-order lock until commit.
    for (const r of rows) {
      await d.events.append(trx, {
        type: 'vm',
        action: 'resource.expiring',
        ownerId: r.owner_id,
        resourceId: r.id,
        data: { expiresAt: r.expires_at?.toISOString() ?? null },
      });
    }
    return rows.length;
  });
}
