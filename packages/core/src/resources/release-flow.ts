/**
 * release: mark RELEASING and enqueue the release job (retried until the provisioner
 * confirms), in one transaction. Releasing something already released answers it as it is.
 */
import type { Kysely } from 'kysely';
import type { Actor, Resource, ResourceStatus } from '../domain.js';
import { SlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { faultPoint } from '../faults.js';
import type { CreditLedger } from '../ledger/ledger.js';
import type { Clock } from '../provisioner/provisioner.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { type AwaitDeps, awaitSettled, type WaitOptions } from './await-settled.js';
import type { ResourceJobs } from './jobs/resource-jobs.js';
import { dropResize } from './operations/resize-credits.js';
import { toResource } from './resource-mapper.js';
import { visibleResource } from './resource-repository.js';

export interface ReleaseDeps extends AwaitDeps {
  db: Kysely<SlipwayDatabase>;
  events: EventLog;
  ledger: CreditLedger;
  clock: Clock;
  jobs: ResourceJobs;
}

/**
 * Statuses a release may start from (`allowedActions` lists RELEASE in exactly these).
 * UNKNOWN too: its release job waits for the host's replica.
 */
export const RELEASABLE: readonly ResourceStatus[] = ['RUNNING', 'STOPPED', 'FAILED', 'UNKNOWN'];

/** Statuses in which there is nothing left to release: a release answers the resource as it is. */
const ENDED: readonly ResourceStatus[] = ['RELEASED', 'EXPIRED', 'GONE'];

export async function releaseResource(d: ReleaseDeps, actor: Actor, id: string, opts: WaitOptions): Promise<Resource> {
  const claimed = await d.db.transaction().execute(async (trx) => {
    const row = await visibleResource(trx, actor, id, true);
    const now = d.clock.now();
    const cause = { reason: 'user', actorId: actor.id } as const;
    if (ENDED.includes(row.status)) return { row, jobId: undefined };
    // Already releasing: make sure a release is alive (no-op when one is), then answer as it is.
    if (row.status === 'RELEASING') return { row, jobId: await d.jobs.ensureRelease(trx, now, row.id, cause) };
    if (!RELEASABLE.includes(row.status)) {
      throw new SlipwayError('INVALID_STATE', `resource ${id} is ${row.status} and cannot be released yet`, {
        details: { status: row.status },
      });
    }
    // A failed allocation never had a machine (its cleanup job sees to any half-built one);
    // a machine that failed after it ran still exists at the provider and is released there.
    const nothingToRelease = row.status === 'FAILED' && !row.external_id;
    // A pending resize ends with the machine: its hold is released now, not charged.
    const resize = row.resize_reservation_id || row.pending_spec ? await dropResize(trx, d, row) : { released: 0 };
    const next = await trx
      .updateTable('resources')
      .set(
        nothingToRelease
          ? { status: 'RELEASED', released_at: now, updated_at: now }
          : { status: 'RELEASING', updated_at: now },
      )
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const jobId = nothingToRelease ? undefined : await d.jobs.release(trx, now, row.id, cause);
    await d.events.append(trx, {
      type: 'vm',
      action: next.status === 'RELEASED' ? 'resource.released' : 'resource.releasing',
      actorId: actor.id,
      ownerId: row.owner_id,
      resourceId: id,
      data: { from: row.status, ...(resize.released > 0 ? { resizeHoldReleased: resize.released } : {}) },
    });
    return { row: next, jobId };
  });
  if (claimed.jobId !== undefined) faultPoint('release.after-claim');
  return toResource(await awaitSettled(d, claimed.row, claimed.jobId, 'RELEASING', opts));
}
