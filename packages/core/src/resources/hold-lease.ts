/**
 * A hold (pending reservation) is a lease: the allocate job renews it while the provisioner
 * works, and the hold sweeper renews it while the job is still claimable (queued, or running
 * under a lease another replica may take over). Every renewal stops at the allocation's
 * deadline, so no crash loop or lost job keeps credits held for good: past it the sweeper
 * gives the allocation up whatever its job's state.
 */
import { errorMessage } from '../errors.js';
import type { ResourcePolicy } from './resource-policy.js';
import type { WorkerDeps } from './worker-deps.js';

/** The latest an allocation may hold credits: `allocationDeadlineMs` (at least one `holdTtlMs`) after its creation. */
export function holdDeadline(
  policy: Pick<ResourcePolicy, 'holdTtlMs' | 'allocationDeadlineMs'>,
  createdAt: Date,
): Date {
  return new Date(createdAt.getTime() + Math.max(policy.allocationDeadlineMs, policy.holdTtlMs));
}

/** Push the hold's expiry a full `holdTtlMs` ahead (never past its deadline), if it is still pending. Never throws. */
export async function renewHold(
  d: Pick<WorkerDeps, 'db' | 'clock' | 'logger' | 'policy'>,
  row: { reservation_id: string | null; created_at: Date },
): Promise<void> {
  if (!row.reservation_id) return;
  const ahead = d.clock.now().getTime() + d.policy.holdTtlMs;
  const until = new Date(Math.min(ahead, holdDeadline(d.policy, row.created_at).getTime()));
  await d.db
    .updateTable('reservations')
    .set({ expires_at: until })
    .where('id', '=', row.reservation_id)
    .where('state', '=', 'pending')
    .execute()
    .catch((error: unknown) => d.logger.warn('hold renewal failed', { error: errorMessage(error) }));
}
