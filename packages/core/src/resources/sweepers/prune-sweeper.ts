/** History that is no longer needed: old rate-limit windows, finished jobs, old orphan sweeps. */
import { pruneSweeps } from '../reaper/reaper-repository.js';
import type { WorkerDeps } from '../worker-deps.js';

export async function prune(d: Pick<WorkerDeps, 'db' | 'limiter' | 'policy'>, now: Date): Promise<void> {
  await d.limiter.prune(d.db, now);
  // Finished jobs are history after a while; dead ones stay for an operator to inspect.
  await d.db
    .deleteFrom('jobs')
    .where('state', '=', 'done')
    .where('finished_at', '<', new Date(now.getTime() - d.policy.keepDoneJobsMs))
    .execute();
  // The newest sweep of each provisioner stays: the admin query shows it.
  await pruneSweeps(d.db, new Date(now.getTime() - d.policy.keepDoneJobsMs));
}
