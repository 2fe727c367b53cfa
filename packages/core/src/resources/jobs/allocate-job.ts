/**
 * `resource.allocate`: PROVISIONING → RUNNING (commit the hold) or FAILED (release it).
 * The provisioner is called outside any transaction, with the hold renewed meanwhile; the
 * outcome is stored in one transaction that re-reads the row under lock, since another
 * runner (after a lease takeover) or the hold sweeper may have settled it meanwhile.
 */
import { errorMessage, isSlipwayError } from '../../errors.js';
import { faultPoint } from '../../faults.js';
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import type { Allocation } from '../../provisioner/provisioner.js';
import { renewHold } from '../hold-lease.js';
import { type ResourceRow, resourceSink } from '../resource-mapper.js';
import { markAllocated, markFailed, resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { isTransient, payloadResourceId } from './resource-jobs.js';

export function allocateJob(d: WorkerDeps): JobHandler {
  return {
    run: (job, signal) => allocate(d, job, signal),
    onDead: (job, error) => failAllocation(d, payloadResourceId(job.payload), error),
  };
}

/** The row as the commit stored it (a waiting request answers with it), else undefined. */
async function allocate(d: WorkerDeps, job: Job, signal: AbortSignal): Promise<ResourceRow | undefined> {
  const row = await resourceById(d.db, payloadResourceId(job.payload));
  if (row?.status !== 'PROVISIONING') return undefined; // already settled: the job is a duplicate
  let allocation: Allocation;
  try {
    allocation = await callAllocate(d, row, signal);
  } catch (error) {
    // Our runner is stopping or lost the lease: the job goes on elsewhere, nothing failed.
    if (signal.aborted) throw error;
    if (isTransient(error) && job.attempts < job.max_attempts) throw error; // retried with backoff
    await failAllocation(d, row.id, error);
    return undefined;
  }
  faultPoint('allocate.before-commit');
  return commitAllocation(d, row, allocation, job.attempts);
}

/** Ask the provisioner for the machine, renewing the hold every third of its lease meanwhile. */
async function callAllocate(d: WorkerDeps, row: ResourceRow, signal: AbortSignal): Promise<Allocation> {
  const runtime = d.registry.get(row.provisioner);
  const renew = setInterval(() => void renewHold(d, row), Math.max(50, d.policy.holdTtlMs / 3));
  try {
    return await runtime.allocate(
      {
        resourceId: row.id,
        requestId: row.request_id,
        ownerId: row.owner_id,
        name: row.name,
        kind: row.kind,
        spec: row.spec,
        options: row.options,
        labels: row.labels,
        expiresAt: row.expires_at,
      },
      { signal, events: resourceSink(d.eventService, row) },
    );
  } finally {
    clearInterval(renew);
  }
}

/** Charge the hold and store the machine; or, when the allocation was given up meanwhile, clean up. */
async function commitAllocation(
  d: WorkerDeps,
  row: ResourceRow,
  allocation: Allocation,
  attempt: number,
): Promise<ResourceRow | undefined> {
  return d.db.transaction().execute(async (trx) => {
    const current = await resourceById(trx, row.id, true);
    // Another runner (after a lease takeover) committed this very machine: nothing to do.
    if (current?.status !== 'PROVISIONING' && current?.status !== 'FAILED') return undefined;
    const charged =
      current.status === 'PROVISIONING' && current.reservation_id
        ? await d.ledger.commit(trx, current.reservation_id, {
            charge: allocation.cost ?? current.cost,
            resourceId: row.id,
            actorId: row.owner_id,
          })
        : null;
    if (charged === null) {
      // The allocation was given up meanwhile (FAILED, hold released): a machine without a
      // hold behind it must not live on. Enqueued in this transaction, so a crash cannot lose it.
      await d.jobs.cleanup(trx, d.clock.now(), row.id, { dedupe: false });
      return undefined;
    }
    const stored = await markAllocated(trx, row.id, allocation, charged, d.clock.now());
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.created',
      actorId: row.owner_id,
      ownerId: row.owner_id,
      resourceId: row.id,
      data: { externalId: allocation.externalId, charged, ip: allocation.ip ?? null, attempt },
    });
    return stored;
  });
}

/** Final failure of an allocation: release (or charge, per policy) the hold, mark FAILED, clean up. */
export async function failAllocation(d: WorkerDeps, resourceId: string, error: unknown): Promise<void> {
  const { ledger, policy } = d;
  await d.db.transaction().execute(async (trx) => {
    const row = await resourceById(trx, resourceId, true);
    if (row?.status !== 'PROVISIONING' || !row.reservation_id) return;
    const refunded = policy.refundOnFailure
      ? await ledger.release(trx, row.reservation_id)
      : (await ledger.commit(trx, row.reservation_id, { resourceId, actorId: row.owner_id })) === null;
    const code = isSlipwayError(error) ? error.code : 'PROVISIONER_FAILED';
    await markFailed(trx, resourceId, {
      error: errorMessage(error),
      code,
      cost: policy.refundOnFailure ? 0 : row.cost,
      now: d.clock.now(),
    });
    await d.jobs.cleanup(trx, d.clock.now(), resourceId);
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.failed',
      severity: 'warning',
      actorId: row.owner_id,
      ownerId: row.owner_id,
      resourceId,
      data: { error: errorMessage(error), code, refunded },
    });
  });
}
