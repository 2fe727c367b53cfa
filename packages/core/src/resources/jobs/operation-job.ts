/**
 * `resource.operate`: run the operation a request claimed (power, resize, hotplug) at the
 * provisioner, outside any transaction, then store the outcome (operations/operation-commit.ts).
 * Transient errors are retried with backoff; a crash or a lost lease re-runs the job, and the
 * operation is idempotent at the plugin (starting a running machine, reconfiguring to the
 * size it has, attaching a device it has). When the job gives up, the operation fails: its
 * hold or device is undone and the slot is freed, so it never stays claimed.
 */
import { SlipwayError } from '../../errors.js';
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

async function operate(d: WorkerDeps, job: Job, signal: AbortSignal): Promise<void> {
  const resourceId = payloadResourceId(job.payload);
  const row = await resourceById(d.db, resourceId);
  const op = row?.operation;
  if (!row || !op || op.id !== job.payload.operationId) return; // settled already: a duplicate run
  if (!LIVE_STATUSES.includes(row.status)) {
    const gone = new SlipwayError('INVALID_STATE', `the resource became ${row.status} before ${op.action} ran`);
    await failOperation(d, resourceId, op.id, gone);
    return;
  }
  let result: OperationResult;
  try {
    result = await callProvisioner(d, row, op, signal);
  } catch (error) {
    if (signal.aborted) throw error; // our runner is stopping or lost the lease: the job goes on elsewhere
    if (isTransient(error) && job.attempts < job.max_attempts) throw error; // retried with backoff
    await failOperation(d, resourceId, op.id, error);
    return;
  }
  faultPoint('operation.before-commit');
  await commitOperation(d, resourceId, op, result);
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
      return { detach: await runtime.detach(allocation, op.deviceId, call) };
  }
}
