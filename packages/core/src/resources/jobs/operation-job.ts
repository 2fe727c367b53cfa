/**
 * `resource.operate`: run the operation a request claimed (power, resize, hotplug) at the
 * provisioner, outside any transaction, then store the outcome (operations/operation-commit.ts).
 * Transient errors are retried with backoff; a crash or a lost lease re-runs the job, and the
 * operation is idempotent at the plugin (starting a running machine, reconfiguring to the
 * size it has, attaching a device it has). When the job gives up, the operation fails and
 * the slot is freed, so it never stays claimed: its hold or device is undone, unless the
 * provisioner may already have acted (`reached`), in which case what the machine may now be
 * is kept (a pending resize, a listed device) for a revert or a detach to settle.
 */
import { sql } from 'kysely';
import { isSlipwayError, SlipwayError } from '../../errors.js';
import { faultPoint } from '../../faults.js';
import type { Job, JobHandler } from '../../jobs/job-runner.js';
import { commitOperation, failOperation, LIVE_STATUSES, type OperationResult } from '../operations/operation-commit.js';
import type { OperationRecord } from '../operations/operation-records.js';
import { type ResourceRow, resourceSink, toAllocation } from '../resource-mapper.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { isTransient, payloadResourceId } from './resource-jobs.js';

export function operationJob(d: WorkerDeps): JobHandler {
  return {
    run: (job, signal) => operate(d, job, signal),
    onDead: (job, error) => failOperation(d, payloadResourceId(job.payload), String(job.payload.operationId), error),
  };
}

/** The operations whose failure undoes something in the database that the machine may have done. */
const UNDONE_ON_FAILURE: readonly OperationRecord['action'][] = ['RESIZE', 'ATTACH_DEVICE', 'DETACH_DEVICE'];

async function operate(d: WorkerDeps, job: Job, signal: AbortSignal): Promise<void> {
  const resourceId = payloadResourceId(job.payload);
  // Two rounds at most: a revert that finds its resize applied by a boot meanwhile looks once more.
  for (let round = 0; round < 2; round++) {
    const row = await resourceById(d.db, resourceId);
    const op = row?.operation;
    if (!row || !op || op.id !== job.payload.operationId) return; // settled already: a duplicate run
    if (!LIVE_STATUSES.includes(row.status)) {
      const gone = new SlipwayError('INVALID_STATE', `the resource became ${row.status} before ${op.action} ran`);
      await failOperation(d, resourceId, op.id, gone);
      return;
    }
    if (op.action === 'REVERT_RESIZE' && row.pending_spec === null) {
      await revertTooLate(d, row, op, signal);
      return;
    }
    if (UNDONE_ON_FAILURE.includes(op.action) && !(await markReached(d, resourceId, op))) return;
    let result: OperationResult;
    try {
      result = await callProvisioner(d, row, op, signal);
    } catch (error) {
      if (signal.aborted) throw error; // our runner is stopping or lost the lease: the job goes on elsewhere
      if (isTransient(error) && job.attempts < job.max_attempts) throw error; // retried with backoff
      // Whether this was the only call is decided under the row lock (another runner may have called too).
      await failOperation(d, resourceId, op.id, error, { refused: isRefusal(error) });
      return;
    }
    faultPoint('operation.before-commit');
    if ((await commitOperation(d, resourceId, op, result)) !== 'stale') return;
  }
}

/**
 * A plugin's typed refusal: it checked and did nothing. A plain error (PROVISIONER_FAILED), an
 * invalid answer (it ran, then answered badly) or a time-out may come after the machine changed.
 */
const REFUSALS: readonly string[] = [
  'VALIDATION_FAILED',
  'NOT_SUPPORTED',
  'INVALID_STATE',
  'CONFLICT',
  'CAPACITY_EXHAUSTED',
  'NOT_FOUND',
];
const isRefusal = (error: unknown): boolean => isSlipwayError(error) && REFUSALS.includes(error.code);

/**
 * Committed before each provisioner call: from now on a failure keeps what the machine may
 * have done (operation-commit.ts `failOperation`), and `calls` counts the calls begun by any
 * runner (counted in SQL, so two runners after a lost lease both count). False when the
 * operation is settled.
 */
async function markReached(d: WorkerDeps, resourceId: string, op: OperationRecord): Promise<boolean> {
  const res = await d.db
    .updateTable('resources')
    .set({
      operation: sql`jsonb_set(operation || '{"reached": true}'::jsonb, '{calls}',
        to_jsonb(coalesce((operation->>'calls')::int, 0) + 1))`,
    })
    .where('id', '=', resourceId)
    .where(sql<string>`operation->>'id'`, '=', op.id)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/**
 * A boot applied the pending size before the revert committed: nothing is left to revert, and
 * the revert's reconfigure (if it ran) set the machine back to the old size. Reconfigure it to
 * the size it now has and is charged for, then fail with CONFLICT.
 */
async function revertTooLate(d: WorkerDeps, row: ResourceRow, op: OperationRecord, signal: AbortSignal) {
  const runtime = d.registry.get(row.provisioner);
  const call = { signal, events: resourceSink(d.eventService, row) };
  await runtime.reconfigure(toAllocation(row), { vcpu: row.spec.vcpu, memoryMb: row.spec.memoryMb }, call);
  const late = new SlipwayError('CONFLICT', 'the resize was applied by a boot before the revert: it now is the size', {
    details: { operation: op.action, resourceId: row.id },
  });
  await failOperation(d, row.id, op.id, late);
}

async function callProvisioner(
  d: WorkerDeps,
  row: ResourceRow,
  op: OperationRecord,
  signal: AbortSignal,
): Promise<OperationResult> {
  const runtime = d.registry.get(row.provisioner);
  const call = { signal, events: resourceSink(d.eventService, row) };
  const allocation = toAllocation(row);
  switch (op.action) {
    case 'START':
      return { power: await runtime.start(allocation, call) };
    case 'STOP':
      await runtime.stop(allocation, call);
      return {};
    case 'RESTART':
      return { power: await runtime.restart(allocation, call) };
    case 'RESET_HARD':
      return { power: await runtime.reset(allocation, 'hard', call) };
    case 'RESET_SOFT':
      return { power: await runtime.reset(allocation, 'soft', call) };
    case 'RESIZE':
      return {
        reconfigure: await runtime.reconfigure(allocation, { vcpu: op.spec.vcpu, memoryMb: op.spec.memoryMb }, call),
      };
    case 'REVERT_RESIZE':
      // Back to the size it runs with: the provisioner drops the pending change.
      return {
        reconfigure: await runtime.reconfigure(allocation, { vcpu: row.spec.vcpu, memoryMb: row.spec.memoryMb }, call),
      };
    case 'ATTACH_DEVICE': {
      const { id, type, sizeGb } = op.device;
      await runtime.attach(allocation, { id, type, ...(sizeGb !== undefined ? { options: { sizeGb } } : {}) }, call);
      return {};
    }
    case 'DETACH_DEVICE':
      try {
        return { detach: await runtime.detach(allocation, op.deviceId, call) };
      } catch (error) {
        // The machine has no such device (an attach that never got through): it is detached.
        if (isSlipwayError(error) && error.code === 'NOT_FOUND') return { detach: { state: 'detached' } };
        throw error;
      }
  }
}
