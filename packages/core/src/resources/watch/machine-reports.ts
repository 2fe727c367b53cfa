/**
 * What a provisioner's watcher reports about one machine, applied in one transaction with
 * its events: `state` moves RUNNING ⇄ STOPPED; `failed`/`gone` keep the status (a watcher
 * may see a machine it lost track of, and only a refresh or an operator decides it is
 * failed) but note the error with a critical event; `event` is stored with the resource;
 * `deviceDetached` removes the device; `running` (a boot) applies a pending resize of that
 * size (another size than the spec's is a critical size mismatch) and finishes every
 * unacknowledged detach. Resources still being provisioned or
 * released, or finished, are never touched: their own jobs own them.
 */
import type { NewEvent } from '../../events/event-log.js';
import type { MachineReport } from '../../provisioner/capabilities.js';
import { jsonb } from '../../storage/executor.js';
import { LIVE_STATUSES } from '../operations/operation-commit.js';
import { bootedWith } from '../operations/resize-credits.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';

export type ReportDeps = Pick<WorkerDeps, 'db' | 'ledger' | 'events' | 'clock' | 'logger'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Apply `report` about `resourceId` from the watcher of `provisioner`; reports about others' machines are ignored. */
export async function applyMachineReport(
  d: ReportDeps,
  provisioner: string,
  resourceId: string,
  report: MachineReport,
): Promise<void> {
  if (!UUID.test(resourceId)) {
    d.logger.warn('watch report about an unknown resource ignored', { provisioner, resourceId });
    return;
  }
  await d.db.transaction().execute(async (trx) => {
    const row = await resourceById(trx, resourceId, true);
    if (!row || row.provisioner !== provisioner) {
      d.logger.warn('watch report about a resource of another provisioner ignored', { provisioner, resourceId });
      return;
    }
    if (!LIVE_STATUSES.includes(row.status)) return;
    const now = d.clock.now();
    const events: NewEvent[] = [];
    const event = (action: string, data: Record<string, unknown>, severity: NewEvent['severity'] = 'info') =>
      events.push({ type: 'vm', action, severity, ownerId: row.owner_id, resourceId, data: { provisioner, ...data } });

    if (report.state === 'running' || report.state === 'stopped') {
      const to = report.state === 'running' ? 'RUNNING' : 'STOPPED';
      if (row.status !== to) {
        await trx.updateTable('resources').set({ status: to, updated_at: now }).where('id', '=', resourceId).execute();
        event('resource.status_changed', { from: row.status, to, source: 'watch', message: report.message ?? null });
      }
    } else if (report.state === 'failed' || report.state === 'gone') {
      const error = report.message ?? `the machine is ${report.state} at the provider`;
      await trx.updateTable('resources').set({ error, updated_at: now }).where('id', '=', resourceId).execute();
      event('resource.machine_lost', { providerState: report.state, error }, 'critical');
    }
    if (report.event) {
      event(report.event.action, report.event.data ?? {}, report.event.severity ?? 'info');
    }
    // A boot (`running`) completes every detach the guest never acknowledged, as a reset does.
    // A device the machine says is gone goes whatever its state (a failed detach may have got
    // through), except one being attached: its attach owns it.
    const finished = row.devices.filter((x) =>
      x.id === report.deviceDetached
        ? x.state !== 'ATTACHING'
        : x.state === 'DETACHING' && report.running !== undefined,
    );
    if (finished.length > 0) {
      const devices = row.devices.filter((x) => !finished.includes(x));
      await trx
        .updateTable('resources')
        .set({ devices: jsonb(devices), updated_at: now })
        .where('id', '=', resourceId)
        .execute();
      for (const x of finished) event('resource.device_detached', { deviceId: x.id, source: 'watch' });
    }
    if (report.running) {
      const resized = await bootedWith(trx, d, row, report.running, null);
      if (resized) events.push(resized);
    }
    for (const e of events) await d.events.append(trx, e);
  });
}
