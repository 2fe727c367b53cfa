/** History that is no longer needed: old rate-limit windows, finished jobs, old orphan sweeps. */
import { pruneSweeps } from '../reaper/reaper-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { inBatches } from './retention.js';

/** Finished jobs deleted per statement (an index range scan of `jobs_done`). */
const JOB_BATCH = 1_000;

export async function prune(d: Pick<WorkerDeps, 'db' | 'limiter' | 'policy'>, now: Date): Promise<void> {
  await d.limiter.prune(d.db, now);
  // Finished jobs are history after a while; dead ones stay for an operator to inspect.
  const before = new Date(now.getTime() - d.policy.keepDoneJobsMs);
  await inBatches(JOB_BATCH, (limit) =>
    d.db
      .deleteFrom('jobs')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('state', '=', 'done')
          .where('finished_at', '<', before)
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .executeTakeFirst(),
  );
  // The newest sweep of each scope stays: the admin query shows it.
  await pruneSweeps(d.db, before);
}
