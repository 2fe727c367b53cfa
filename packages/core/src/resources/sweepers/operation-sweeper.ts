/**
 * Operations whose job is gone (finished or dead) but whose slot is still claimed: a job
 * whose `onDead` hook could not write (the database was down) would leave the resource
 * refusing every operation with CONFLICT forever. Such an operation is failed like a dead
 * job's: its hold released, its device undone, the slot freed. Safe on every replica at once.
 */
import { SlipwayError } from '../../errors.js';
import { jobKeys } from '../jobs/resource-jobs.js';
import { failOperation } from '../operations/operation-commit.js';
import type { OperationRecord } from '../operations/operation-records.js';
import type { WorkerDeps } from '../worker-deps.js';

/** Claimed operations read per page (the index `resources_operation`). */
const OPERATION_PAGE = 100;

export async function sweepOperations(d: WorkerDeps): Promise<number> {
  let n = 0;
  let after: string | undefined;
  for (;;) {
    let q = d.db.selectFrom('resources').select(['id', 'operation']).where('operation', 'is not', null);
    if (after !== undefined) q = q.where('id', '>', after);
    const claimed = await q.orderBy('id').limit(OPERATION_PAGE).execute();
    for (const row of claimed) if (await failOrphan(d, row)) n += 1;
    const last = claimed.at(-1);
    if (!last || claimed.length < OPERATION_PAGE) return n;
    after = last.id;
  }
}

/** Fail the operation when no job of it is queued or running; true when it did. */
async function failOrphan(d: WorkerDeps, row: { id: string; operation: OperationRecord | null }): Promise<boolean> {
  const op = row.operation;
  if (!op) return false;
  const job = await d.db
    .selectFrom('jobs')
    .select('id')
    .where('key', '=', jobKeys.operate(op.id))
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  if (job) return false;
  const orphan = new SlipwayError('PROVISIONER_FAILED', `${op.action} ended without its outcome being stored`);
  await failOperation(d, row.id, op.id, orphan);
  return true;
}
