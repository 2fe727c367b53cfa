/**
 * Holds whose lease ran out (their allocate job stopped renewing them). While the job is still
 * claimable (queued, or running under a lease that ran out, which a replica takes over) the
 * hold is renewed: a crash or a restart of every replica is no reason to fail an allocation.
 * Otherwise ask the provider whether the machine exists, and finish the allocation or give it
 * up. Safe on every replica at once.
 *
 * Two bounds keep credits from being held for good: past its deadline (`holdDeadline`) an
 * allocation is given up whatever its job's state; and one pinned to a host that has been
 * silent for longer than the hold's lease (its replica died and did not come back) is given
 * up too. Its cleanup job, pinned to the host, removes anything half-built once the host
 * returns; an allocation that completes late finds the resource FAILED and enqueues the same
 * cleanup (allocate-job.ts `commitAllocation`).
 *
 * A hold whose resource row is gone (deleted, or never written) has no allocation left to
 * settle it: it is released (`expired`) with a `resource.hold_expired` event, in one
 * transaction. The release is conditional on the hold being pending, so two sweepers at once
 * release it once.
 */

import type { ErrorCode } from '../../errors.js';
import { errorMessage } from '../../errors.js';
import { hostSilentSince } from '../../hosts/host-repository.js';
import { holdDeadline, renewHold } from '../hold-lease.js';
import { jobKeys } from '../jobs/resource-jobs.js';
import { resourceSink, toAllocation } from '../resource-mapper.js';
import { markFailed, resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';

/** Holds read per page; the sweep pages on until it has seen every one due. */
const HOLD_PAGE = 100;

/** Reconcile every expired hold, a page at a time; returns how many were settled or sent back to allocation. */
export async function sweepHolds(d: WorkerDeps): Promise<number> {
  const now = d.clock.now();
  let n = 0;
  let after: { expiresAt: Date; id: string } | undefined;
  for (;;) {
    const page = await staleHolds(d, now, after);
    for (const hold of page) {
      try {
        const settled = hold.resource_id
          ? await reconcileHold(d, hold, hold.resource_id, now)
          : await releaseOrphanHold(d, hold);
        if (settled) n += 1;
      } catch (error) {
        d.logger.warn('hold reconciliation failed; will retry', { reservationId: hold.id, error: errorMessage(error) });
      }
    }
    const last = page.at(-1);
    if (!last || page.length < HOLD_PAGE) return n;
    after = { expiresAt: last.expires_at, id: last.id };
  }
}

/** Pending allocation holds past their lease, in (expires_at, id) order after `after`: the index `reservations_pending_expiry`. */
function staleHolds(d: WorkerDeps, now: Date, after: { expiresAt: Date; id: string } | undefined) {
  let q = d.db
    .selectFrom('reservations')
    .select(['id', 'resource_id', 'expires_at', 'account_id', 'amount'])
    .where('state', '=', 'pending')
    // A resize hold is no allocation's: its resize settles it (operations/resize-credits.ts).
    .where('purpose', '=', 'allocation')
    .where('expires_at', '<', now);
  if (after) q = q.where((eb) => eb(eb.refTuple('expires_at', 'id'), '>', eb.tuple(after.expiresAt, after.id)));
  return q.orderBy('expires_at').orderBy('id').limit(HOLD_PAGE).execute();
}

type StaleHold = Awaited<ReturnType<typeof staleHolds>>[number];

async function reconcileHold(d: WorkerDeps, hold: StaleHold, resourceId: string, now: Date): Promise<boolean> {
  const reservationId = hold.id;
  // The job first, then the row: a job that finished in between has settled the row we read.
  const claimable = await allocationClaimable(d, resourceId);
  const row = await resourceById(d.db, resourceId);
  // The hold and its resource are written by one statement (admission-statement.ts): a hold
  // we can see whose row we cannot was deleted (or never written), and nothing else frees it.
  if (!row) return releaseOrphanHold(d, hold);
  const deadline = holdDeadline(d.policy, row.created_at);
  if (now >= deadline) {
    const error = `allocation did not complete before its deadline (${deadline.toISOString()})`;
    const data = { reason: 'deadline', deadline: deadline.toISOString(), error };
    return giveUp(d, reservationId, resourceId, { error, code: 'PROVISIONER_TIMEOUT', data });
  }
  if (row.host !== null && (await hostSilentSince(d.db, row.host, hostGraceStart(d, now)))) {
    const error = `host ${row.host} stopped heartbeating`;
    return giveUp(d, reservationId, resourceId, { error, data: { host: row.host, reason: 'host_silent', error } });
  }
  if (claimable) {
    // A runner has it, or will: after a crash a replica takes the job over once its lease ran out.
    await renewHold(d, row);
    return false;
  }
  if (!d.hosts.serves(row.host)) {
    // Only the host's replica may ask its provisioner: hand it to the (pinned, idempotent)
    // allocate job, which that replica runs or takes over once it is up; the hold lives on.
    await d.jobs.allocate(d.db, now, resourceId);
    await renewHold(d, row);
    return false;
  }
  const status = await d.registry
    .get(row.provisioner)
    .status({ ...toAllocation(row), externalId: row.external_id ?? '' }, { events: resourceSink(d.eventService, row) });
  if (status.state !== 'gone' && status.state !== 'failed') {
    // The machine exists: finish the allocation (allocate is idempotent and returns it), then commit.
    await d.jobs.allocate(d.db, now, resourceId);
    await renewHold(d, row);
    return true;
  }
  await giveUp(d, reservationId, resourceId, {
    error: 'allocation did not complete before its hold expired',
    data: {},
  });
  return true;
}

/** Heartbeats before this instant: the host has been silent for a whole hold lease (and is stale). */
function hostGraceStart(d: WorkerDeps, now: Date): Date {
  return new Date(now.getTime() - Math.max(d.policy.holdTtlMs, d.hosts.settings.staleAfterMs));
}

/**
 * Give the allocation up: release the hold, mark the resource FAILED, enqueue its (pinned)
 * cleanup, in one transaction; false when it was settled meanwhile.
 */
async function giveUp(
  d: WorkerDeps,
  reservationId: string,
  resourceId: string,
  why: { error: string; code?: ErrorCode; data: Record<string, string> },
): Promise<boolean> {
  return d.db.transaction().execute(async (trx) => {
    const current = await resourceById(trx, resourceId, true);
    if (current?.status !== 'PROVISIONING' || current.reservation_id !== reservationId) return false;
    const now = d.clock.now();
    await d.ledger.release(trx, reservationId, 'expired');
    await markFailed(trx, resourceId, { error: why.error, code: why.code ?? 'PROVISIONER_FAILED', cost: 0, now });
    await d.jobs.cleanup(trx, now, resourceId);
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.hold_expired',
      severity: 'warning',
      ownerId: current.owner_id,
      resourceId,
      data: { reservationId, ...why.data },
    });
    return true;
  });
}

/**
 * Release a hold no resource row names any more, and say so, in one transaction; false when
 * it was settled meanwhile (another sweeper released it first).
 */
async function releaseOrphanHold(d: WorkerDeps, hold: StaleHold): Promise<boolean> {
  const released = await d.db.transaction().execute(async (trx) => {
    if (!(await d.ledger.release(trx, hold.id, 'expired'))) return false;
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.hold_expired',
      severity: 'warning',
      ownerId: hold.account_id,
      resourceId: hold.resource_id,
      data: { reservationId: hold.id, reason: 'resource_missing', amount: hold.amount },
    });
    return true;
  });
  if (released) d.logger.warn('released a hold whose resource is gone', { reservationId: hold.id });
  return released;
}

/**
 * The allocate job is queued or running, whatever its lease: a running job whose lease ran
 * out is taken over by the next claim (job-claim.ts), so it is as alive as a queued one.
 */
async function allocationClaimable(d: WorkerDeps, resourceId: string): Promise<boolean> {
  const active = await d.db
    .selectFrom('jobs')
    .select('id')
    .where('key', '=', jobKeys.allocate(resourceId))
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return active !== undefined;
}
