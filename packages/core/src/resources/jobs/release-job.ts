/**
 * `resource.release`: RELEASING → RELEASED (or EXPIRED). Never gives up: a machine nobody
 * pays for must not be left running. After `policy.releaseAttempts` failed attempts it
 * raises a critical event and keeps retrying at the backoff cap.
 */
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import { dropResize } from '../operations/resize-credits.js';
import { resourceSink, toAllocation } from '../resource-mapper.js';
import { markReleased, resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { alertIfStuck, criticalEvent } from './job-alerts.js';
import { payloadResourceId } from './resource-jobs.js';

export function releaseJob(d: WorkerDeps): JobHandler {
  return {
    run: (job, signal) => release(d, job, signal),
    onRetry: (job, error) => alertIfStuck(d, job, 'resource.release_failing', error),
    onDead: (job, error) => criticalEvent(d, payloadResourceId(job.payload), 'resource.release_failed', error),
  };
}

async function release(d: WorkerDeps, job: Job, signal: AbortSignal): Promise<void> {
  const row = await resourceById(d.db, payloadResourceId(job.payload));
  if (row?.status !== 'RELEASING') return;
  if (row.external_id) {
    await d.registry
      .get(row.provisioner)
      .release(toAllocation(row), { signal, events: resourceSink(d.eventService, row) });
  }
  const expired = job.payload.reason === 'expired';
  await d.db.transaction().execute(async (trx) => {
    const now = d.clock.now();
    if (!(await markReleased(trx, row.id, expired, now))) return;
    // An expiry claims RELEASING without the release flow: a pending resize's hold ends here then.
    const current = await resourceById(trx, row.id, true);
    const resize = current?.resize_reservation_id ? await dropResize(trx, d, current) : { released: 0 };
    await d.events.append(trx, {
      type: 'vm',
      action: expired ? 'resource.expired' : 'resource.released',
      actorId: typeof job.payload.actorId === 'string' ? job.payload.actorId : null,
      ownerId: row.owner_id,
      resourceId: row.id,
      data: {
        ...(expired && row.expires_at ? { expiryLagMs: now.getTime() - row.expires_at.getTime() } : {}),
        ...(resize.released > 0 ? { resizeHoldReleased: resize.released } : {}),
      },
    });
  });
}
