/** Critical events for resource jobs that keep failing or gave up. */

import { errorMessage } from '../../errors.js';
import type { Job } from '../../jobs/job-runner.js';
import { noteError, resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { payloadResourceId } from './resource-jobs.js';

type AlertDeps = Pick<WorkerDeps, 'db' | 'events' | 'clock' | 'policy'>;

/** A critical `vm` event about the resource, for an operator to act on. */
export async function criticalEvent(d: AlertDeps, resourceId: string, action: string, error: unknown): Promise<void> {
  const row = await resourceById(d.db, resourceId);
  await d.events.append(d.db, {
    type: 'vm',
    action,
    severity: 'critical',
    ownerId: row?.owner_id ?? null,
    resourceId,
    data: { error: errorMessage(error) },
  });
}

/**
 * After `policy.releaseAttempts` failed attempts of a job that never gives up: note the
 * error on the resource and raise a critical event (once; the job keeps retrying).
 */
export async function alertIfStuck(d: AlertDeps, job: Job, action: string, error: unknown): Promise<void> {
  if (job.attempts !== d.policy.releaseAttempts) return;
  const resourceId = payloadResourceId(job.payload);
  await noteError(d.db, resourceId, `${action}: ${errorMessage(error)}`, d.clock.now());
  await criticalEvent(d, resourceId, action, error);
}
