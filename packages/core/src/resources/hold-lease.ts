/**
 * A hold (pending reservation) is a lease: the allocate job renews it while the provisioner
 * works, and the hold sweeper reconciles one whose lease ran out.
 */
import { errorMessage } from '../errors.js';
import type { WorkerDeps } from './worker-deps.js';

/** Push the hold's expiry a full `holdTtlMs` ahead, if it is still pending. Never throws. */
export async function renewHold(
  d: Pick<WorkerDeps, 'db' | 'clock' | 'logger' | 'policy'>,
  reservationId: string | null,
): Promise<void> {
  if (!reservationId) return;
  const until = new Date(d.clock.now().getTime() + d.policy.holdTtlMs);
  await d.db
    .updateTable('reservations')
    .set({ expires_at: until })
    .where('id', '=', reservationId)
    .where('state', '=', 'pending')
    .execute()
    .catch((error: unknown) => d.logger.warn('hold renewal failed', { error: errorMessage(error) }));
}
