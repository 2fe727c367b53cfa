/**
 * How an operation ends, each in one transaction that re-reads the resource under lock and
 * acts only if the operation is still the one in flight (a duplicate run or a late runner
 * finds it settled and does nothing): the provisioner's answer is stored (status, pending
 * resize, devices, credits), the slot is freed, the outcome and its events are written.
 * A resource released (or failed) meanwhile stores nothing: the operation fails, undoing its claim.
 */

import type { Transaction, UpdateObject } from 'kysely';
import { errorMessage, isSlipwayError, SlipwayError } from '../../errors.js';
import type { NewEvent } from '../../events/event-log.js';
import type { ResourceDevice } from '../../operation-domain.js';
import type { DetachResult, PowerResult, ReconfigureResult } from '../../provisioner/capabilities.js';
import { jsonb } from '../../storage/executor.js';
import type { SlipwayDatabase } from '../../storage/schema.js';
import type { ResourceRow } from '../resource-mapper.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import { withDeviceState, withoutDevice } from './devices.js';
import type { OperationRecord, OutcomeRecord } from './operation-records.js';
import { applyPendingResize, bootedWith, dropResize } from './resize-credits.js';

/** What the provisioner answered. */
export interface OperationResult {
  power?: PowerResult;
  reconfigure?: ReconfigureResult;
  detach?: DetachResult;
}

export type CommitDeps = Pick<WorkerDeps, 'db' | 'ledger' | 'events' | 'clock'>;
type Trx = Transaction<SlipwayDatabase>;

/**
 * Statuses in which a machine exists and its operations take effect. A string list, so a
 * status another branch adds (UNKNOWN: its host stopped heartbeating) joins by name.
 */
export const LIVE_STATUSES: readonly string[] = ['RUNNING', 'STOPPED', 'UNKNOWN'];

/**
 * `stored`: the outcome is written. `settled`: the operation was no longer in flight.
 * `stale`: a revert found its resize applied meanwhile (a boot): nothing written, the job
 * looks again (operation-job.ts).
 */
export type CommitOutcome = 'stored' | 'settled' | 'stale';

export async function commitOperation(
  d: CommitDeps,
  resourceId: string,
  op: OperationRecord,
  result: OperationResult,
): Promise<CommitOutcome> {
  return d.db.transaction().execute(async (trx) => {
    const row = await resourceById(trx, resourceId, true);
    if (row?.operation?.id !== op.id) return 'settled';
    if (!LIVE_STATUSES.includes(row.status)) {
      // Released or failed meanwhile: nothing is stored, what the claim wrote (a hold) is undone.
      const gone = new SlipwayError('INVALID_STATE', `the resource became ${row.status} during ${op.action}`);
      const events = await compensate(trx, d, row, row.operation, gone.message, false);
      await finish(trx, d, row, op, gone);
      for (const event of events) await d.events.append(trx, event);
      return 'stored';
    }
    if (op.action === 'REVERT_RESIZE' && row.pending_spec === null) return 'stale';
    const events = await storeResult(trx, d, row, op, result);
    await finish(trx, d, row, op, null);
    for (const event of events) await d.events.append(trx, event);
    return 'stored';
  });
}

export interface FailOptions {
  /**
   * The provisioner answered with a typed refusal (it checked and did nothing). When that was
   * the only call it ever got (`calls` under the row lock), the claim is undone even though
   * the operation is `reached`.
   */
  refused?: boolean;
}

/**
 * The operation will not complete: undo what its claim wrote (a hold, a device), record why.
 * When the provisioner may have acted (`reached`), the database keeps what may be true of the
 * machine instead: a resize stays pending with its hold (a revert drops it, a boot with that
 * size applies it), an attached device stays listed with the error (detach it), a device being
 * detached stays DETACHING (finished by its event or a boot).
 */
export async function failOperation(
  d: CommitDeps,
  resourceId: string,
  operationId: string,
  error: unknown,
  opts: FailOptions = {},
) {
  await d.db.transaction().execute(async (trx) => {
    const row = await resourceById(trx, resourceId, true);
    const op = row?.operation;
    if (!row || op?.id !== operationId) return;
    const onlyCallRefused = opts.refused === true && (op.calls ?? 1) <= 1;
    const mayHaveActed = op.reached === true && !onlyCallRefused && LIVE_STATUSES.includes(row.status);
    const events = await compensate(trx, d, row, op, errorMessage(error), mayHaveActed);
    await finish(trx, d, row, op, error);
    for (const event of events) await d.events.append(trx, event);
  });
}

async function storeResult(
  trx: Trx,
  d: CommitDeps,
  row: ResourceRow,
  op: OperationRecord,
  result: OperationResult,
): Promise<NewEvent[]> {
  const event = eventOf(row, op);
  const now = d.clock.now();
  const set = (values: UpdateObject<SlipwayDatabase, 'resources'>) =>
    trx.updateTable('resources').set(values).where('id', '=', row.id).execute();
  switch (op.action) {
    case 'RESIZE': {
      await set({ pending_spec: jsonb(op.spec), resize_delta: op.delta, updated_at: now });
      const pending = { ...row, pending_spec: op.spec, resize_delta: op.delta };
      // Applied now, or a boot already came up with this size while the resize was in flight.
      const applied =
        result.reconfigure?.appliedAt === 'now' || row.operation?.booted === true
          ? await applyPendingResize(trx, d, pending, 'applied-now', op.requestedBy)
          : null;
      return [applied ?? event('resource.resize_pending', { spec: op.spec, delta: op.delta }), succeeded(row, op)];
    }
    case 'REVERT_RESIZE': {
      const { released } = await dropResize(trx, d, row);
      return [event('resource.resize_reverted', { spec: row.pending_spec, released }), succeeded(row, op)];
    }
    case 'ATTACH_DEVICE':
      await set({ devices: jsonb(withDeviceState(row.devices, op.device.id, 'ATTACHED')), updated_at: now });
      return [event('resource.device_attached', { device: op.device }), succeeded(row, op)];
    case 'DETACH_DEVICE': {
      if (result.detach?.state === 'pending') {
        return [event('resource.device_detach_pending', { deviceId: op.deviceId }), succeeded(row, op)];
      }
      // The provisioner's watcher may have finished it already (QEMU reports DEVICE_DELETED as it comes): one event.
      if (!row.devices.some((x) => x.id === op.deviceId)) return [succeeded(row, op)];
      await set({ devices: jsonb(withoutDevice(row.devices, op.deviceId)), updated_at: now });
      return [event('resource.device_detached', { deviceId: op.deviceId }), succeeded(row, op)];
    }
    default: {
      // Power: a boot also finishes every detach the guest never acknowledged (a reset drops them).
      const status = op.action === 'STOP' ? 'STOPPED' : 'RUNNING';
      const dropped = status === 'RUNNING' ? row.devices.filter((x) => x.state === 'DETACHING') : [];
      const devices = row.devices.filter((x) => !dropped.includes(x));
      await set({ status, devices: jsonb(devices), updated_at: now });
      const events = dropped.map((x) => event('resource.device_detached', { deviceId: x.id, reason: 'reboot' }));
      const resized = result.power?.running
        ? await bootedWith(trx, d, row, result.power.running, op.requestedBy)
        : null;
      return [...events, ...(resized ? [resized] : []), succeeded(row, op, { from: row.status, to: status })];
    }
  }
}

async function compensate(
  trx: Trx,
  d: CommitDeps,
  row: ResourceRow,
  op: OperationRecord,
  error: string,
  mayHaveActed: boolean,
): Promise<NewEvent[]> {
  const event = eventOf(row, op, 'warning');
  let extra: Record<string, unknown> = {};
  const out: NewEvent[] = [];
  const setDevices = (devices: ResourceDevice[]) =>
    trx
      .updateTable('resources')
      .set({ devices: jsonb(devices), updated_at: d.clock.now() })
      .where('id', '=', row.id)
      .execute();
  if (op.action === 'RESIZE' && mayHaveActed) {
    // The machine may boot the new size: keep it pending (and its hold) until a boot or a revert settles it.
    await trx
      .updateTable('resources')
      .set({ pending_spec: jsonb(op.spec), resize_delta: op.delta, updated_at: d.clock.now() })
      .where('id', '=', row.id)
      .execute();
    const pending = { ...row, pending_spec: op.spec, resize_delta: op.delta };
    // A boot already came up with it while it was in flight: it runs that size, so it is charged now.
    const applied =
      row.operation?.booted === true ? await applyPendingResize(trx, d, pending, 'applied-now', null) : null;
    out.push(applied ?? event('resource.resize_pending', { spec: op.spec, delta: op.delta, uncertain: true }));
  } else if (op.action === 'RESIZE' && op.reservationId !== null && row.resize_reservation_id === op.reservationId) {
    extra = await dropResize(trx, d, row);
  } else if (op.action === 'ATTACH_DEVICE' && mayHaveActed) {
    // It may be attached: listed, with the error, so the user sees it and can detach it.
    await setDevices(withDeviceState(row.devices, op.device.id, 'ATTACHED', error));
    out.push(event('resource.device_attach_failed', { device: op.device, error, kept: true }));
  } else if (op.action === 'ATTACH_DEVICE') {
    await setDevices(withoutDevice(row.devices, op.device.id));
    out.push(event('resource.device_attach_failed', { device: op.device, error }));
  } else if (op.action === 'DETACH_DEVICE') {
    // The unplug may be under way: DETACHING until its event or a boot; else it is still attached.
    await setDevices(withDeviceState(row.devices, op.deviceId, mayHaveActed ? 'DETACHING' : 'ATTACHED', error));
    out.push(event('resource.device_detach_failed', { deviceId: op.deviceId, error, pending: mayHaveActed }));
  }
  out.push(event('resource.action_failed', { action: op.action, operationId: op.id, error, ...extra }));
  return out;
}

/** Free the slot and record the outcome. */
async function finish(trx: Trx, d: CommitDeps, row: ResourceRow, op: OperationRecord, error: unknown) {
  const outcome: OutcomeRecord = {
    id: op.id,
    action: op.action,
    state: error === null ? 'SUCCEEDED' : 'FAILED',
    error: error === null ? null : errorMessage(error),
    code: error === null ? null : isSlipwayError(error) ? error.code : 'PROVISIONER_FAILED',
    finishedAt: d.clock.now().toISOString(),
  };
  await trx
    .updateTable('resources')
    .set({ operation: null, last_operation: jsonb(outcome), updated_at: d.clock.now() })
    .where('id', '=', row.id)
    .where('operation', 'is not', null)
    .execute();
}

const eventOf =
  (row: ResourceRow, op: OperationRecord, severity: NewEvent['severity'] = 'info') =>
  (action: string, data: Record<string, unknown>): NewEvent => ({
    type: 'vm',
    action,
    severity,
    actorId: op.requestedBy,
    ownerId: row.owner_id,
    resourceId: row.id,
    data: { operationId: op.id, ...data },
  });

const succeeded = (row: ResourceRow, op: OperationRecord, data: Record<string, unknown> = {}): NewEvent =>
  eventOf(row, op)('resource.action_succeeded', { action: op.action, ...data });
