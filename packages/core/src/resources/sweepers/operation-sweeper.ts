/**
 * Operations whose job is gone (finished or dead) but whose slot is still claimed: a job
 * whose `onDead` hook could not write (the database was down) would leave the resource
 * refusing every operation with CONFLICT forever. Such an operation is failed like a dead
 * job's: its hold released, its device undone, the slot freed. Safe on every replica at once.
 */
import { SlipwayError } from '../../errors.js';
import { jobKeys } from '../jobs/resource-jobs.js';
import { failOperation } from '../operations/operation-commit.js';
import type { WorkerDeps } from '../worker-deps.js';

export async function sweepOperations(d: WorkerDeps): Promise<number> {
  const claimed = await d.db
    .selectFrom('resources')
    .select(['id', 'operation'])
    .where('operation', 'is not', null)
    .limit(100)
    .execute();
  let n = 0;
  for (const row of claimed) {
    const op = row.operation;
    if (!op) continue;
    const job = await d.db
      .selectFrom('jobs')
      .select('id')
      .where('key', '=', jobKeys.operate(op.id))
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (job) continue;
    const orphan = new SlipwayError('PROVISIONER_FAILED', `${op.action} ended without its outcome being stored`);
    await failOperation(d, row.id, op.id, orphan);
    n += 1;
  }
  return n;
}
