/**
 * QMP events → what the core hears (through the watcher's `report`) and what the record says.
 * No polling: each VM's long-lived QMP client delivers its events here as they happen.
 */
import { errorMessage, type MachineReport } from '@slipway/core';
import { QMP_CONNECTED, QMP_DISCONNECTED } from '../qmp/qmp-client-options.js';
import type { QmpEvent } from '../qmp/qmp-message.js';
import { finishDetach, reconcileDevices } from './vm-hotplug.js';
import { qemuLogTail, waitForExit } from './vm-process.js';
import { readVm, updateVm, type VmState, vmPaths } from './vm-record.js';
import { report, type VmRuntime } from './vm-runtime.js';

/**
 * Each VM's events are handled one after another, in the order QEMU sent them: handled
 * concurrently, a late STOP report could overtake the RESUME after it and leave the resource
 * STOPPED while the VM runs.
 */
const queues = new WeakMap<VmRuntime, Map<string, Promise<void>>>();

/** Handle one event of VM `vmId` after its earlier ones; never throws (failures are logged). */
export function onVmEvent(rt: VmRuntime, vmId: string, event: QmpEvent, current: boolean): void {
  // A client we closed or replaced says nothing about the VM (its last words are our own close).
  if (!current) return;
  // Read now, synchronously: by the time the handler runs, a stop may have finished.
  const expectedExit = rt.quitting.has(vmId);
  let byVm = queues.get(rt);
  if (!byVm) queues.set(rt, (byVm = new Map()));
  const queue = byVm;
  const next = (queue.get(vmId) ?? Promise.resolve())
    .then(() => handle(rt, vmId, event, expectedExit))
    .catch((error: unknown) =>
      rt.logger.warn('qemu event handling failed', { vmId, event: event.event, error: errorMessage(error) }),
    );
  queue.set(vmId, next);
  void next.then(() => {
    if (queue.get(vmId) === next) queue.delete(vmId);
  });
}

async function handle(rt: VmRuntime, vmId: string, event: QmpEvent, expectedExit: boolean): Promise<void> {
  const store = rt.store;
  if (!store) return;
  const vm = await readVm(store, vmId);
  if (!vm || vm.host !== rt.config.host.name) return;
  const data = event.data;
  const tell = (change: MachineReport) => report(rt, vm.resourceId, change);
  const record = (state: VmState, message?: string) =>
    updateVm(store, vmId, (r) =>
      r.state === state && r.message === message
        ? undefined
        : { ...r, state, ...(message ? { message } : { message: undefined }) },
    );

  switch (event.event) {
    case 'SHUTDOWN': {
      const message = data.guest === true ? 'the guest powered off' : `QEMU shut down (${String(data.reason)})`;
      if (data.guest === true) await record('stopped', message);
      return tell({ state: 'stopped', message, event: { action: 'qemu.shutdown', data: { ...data } } });
    }
    case 'STOP':
      return tell({ state: 'stopped' });
    case 'RESUME':
      await record('running');
      return tell({ state: 'running' });
    case 'RESET':
      return tell({ event: { action: 'qemu.reset', data: { ...data } } });
    case 'GUEST_PANICKED': {
      const message = 'the guest kernel panicked';
      await record('failed', message);
      return tell({
        state: 'failed',
        message,
        event: { action: 'qemu.guest_panicked', severity: 'critical', data: { ...data } },
      });
    }
    case 'DEVICE_DELETED': {
      // Two events per virtio device: only the one naming the device itself counts.
      const device = typeof data.device === 'string' ? data.device : '';
      if (!device.startsWith('dev-')) return;
      const client = rt.sessions.peek(vmId);
      await rt.locks.run(vmId, () => finishDetach(rt, store, vmId, device.slice(4), client));
      return;
    }
    case QMP_CONNECTED: {
      if (data.reconnect !== true) return;
      const client = rt.sessions.peek(vmId);
      if (client)
        await rt.locks.run(vmId, async () => reconcileDevices(rt, store, (await readVm(store, vmId)) ?? vm, client));
      return;
    }
    case QMP_DISCONNECTED: {
      if (expectedExit) return;
      // QEMU closes the socket as it exits; give it a moment to be gone before calling it dead.
      if (!(await waitForExit(vm.pid, vm.dir, 2_000))) return; // alive: the client reconnects
      await rt.sessions.drop(vmId);
      if (rt.quitting.has(vmId) || vm.state !== 'running') return;
      const tail = qemuLogTail(vmPaths(vm.dir).log);
      const message = `QEMU process ${vm.pid} exited${tail ? `: ${tail}` : ''}`;
      await updateVm(store, vmId, (r) => (r.pid === vm.pid ? { ...r, state: 'stopped', message } : undefined));
      return tell({
        state: 'stopped',
        message,
        event: { action: 'qemu.exited', severity: 'warning', data: { pid: vm.pid } },
      });
    }
    default:
      return;
  }
}
