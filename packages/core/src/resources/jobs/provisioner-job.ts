/**
 * `provisioner:<name>:<kind>`: a provisioner's own durable work (the pool's release hook),
 * run through its runtime wrapper; what it emits is stored as `system` events.
 */

import { errorMessage } from '../../errors.js';
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import type { WorkerDeps } from '../worker-deps.js';

/** Jobs of every provisioner: register under `provisioner:*`. */
export const PROVISIONER_JOBS = 'provisioner:*';

export function provisionerJob(d: Pick<WorkerDeps, 'db' | 'events' | 'eventService' | 'registry'>): JobHandler {
  return {
    run: (job, signal) => runProvisionerJob(d, job, signal),
    onDead: async (job, error) => {
      await d.events.append(d.db, {
        type: 'system',
        action: 'provisioner.job_failed',
        severity: 'critical',
        data: { kind: job.kind, payload: job.payload, attempts: job.attempts, error: errorMessage(error) },
      });
    },
  };
}

async function runProvisionerJob(d: Pick<WorkerDeps, 'eventService' | 'registry'>, job: Job, signal: AbortSignal) {
  const [, name = '', kind = ''] = job.kind.split(':');
  await d.registry.get(name).runJob(kind, job.payload, { signal, events: d.eventService.systemSink(name) });
}
