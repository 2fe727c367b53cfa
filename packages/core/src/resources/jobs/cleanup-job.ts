/**
 * `resource.cleanup`: after a failed allocation, make sure nothing half-built is left at the
 * provider (release with `externalId: ''`, which a provisioner resolves by `resourceId`).
 * Never gives up, like a release.
 */
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import { resourceSink, toAllocation } from '../resource-mapper.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { alertIfStuck, criticalEvent } from './job-alerts.js';
import { payloadResourceId } from './resource-jobs.js';

export function cleanupJob(d: WorkerDeps): JobHandler {
  return {
    run: (job, signal) => cleanup(d, job, signal),
    onRetry: (job, error) => alertIfStuck(d, job, 'resource.cleanup_failing', error),
    onDead: (job, error) => criticalEvent(d, payloadResourceId(job.payload), 'resource.cleanup_failed', error),
  };
}

async function cleanup(d: WorkerDeps, job: Job, signal: AbortSignal): Promise<void> {
  const row = await resourceById(d.db, payloadResourceId(job.payload));
  // Only a machine no hold stands behind: a committed one (external id set) belongs to the
  // release flow, and must never be destroyed under its paying user.
  if (!row || row.external_id !== null || (row.status !== 'FAILED' && row.status !== 'RELEASED')) return;
  await d.registry
    .get(row.provisioner)
    .release({ ...toAllocation(row), externalId: '' }, { signal, events: resourceSink(d.eventService, row) });
}
