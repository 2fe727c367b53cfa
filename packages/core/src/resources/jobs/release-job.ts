/**
 * `resource.release`: RELEASING → RELEASED (or EXPIRED). Never gives up: a machine nobody
 * pays for must not be left running. After `policy.releaseAttempts` failed attempts it
 * raises a critical event and keeps retrying at the backoff cap.
 */
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import { resourceSink, toAllocation } from '../resource-mapper.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { alertIfStuck, criticalEvent } from './job-alerts.js';
import type { releaseCompletions } from './release-completions.js';
import { payloadResourceId } from './resource-jobs.js';

/** `completions`: releases that finish together end in one transaction (release-completions.ts). */
export function releaseJob(d: WorkerDeps, completions: ReturnType<typeof releaseCompletions>): JobHandler {
  return {
    run: async (job, signal) => {
      const row = await resourceById(d.db, payloadResourceId(job.payload));
      if (row?.status !== 'RELEASING') return;
      if (row.external_id) {
        await d.registry
          .get(row.provisioner)
          .release(toAllocation(row), { signal, events: resourceSink(d.eventService, row) });
      }
      await completions.end({ row, expired: job.payload.reason === 'expired', actorId: actorOf(job) });
    },
    onRetry: (job, error) => alertIfStuck(d, job, 'resource.release_failing', error),
    onDead: (job, error) => criticalEvent(d, payloadResourceId(job.payload), 'resource.release_failed', error),
  };
}

const actorOf = (job: Job): string | null => (typeof job.payload.actorId === 'string' ? job.payload.actorId : null);
