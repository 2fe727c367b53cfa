/**
 * The watcher (one per replica): re-attaches to every VM this host owns (its process and QMP
 * socket), finishes detaches whose events it missed, reports what each VM is doing, and from
 * then on passes QMP events on as they come (vm-events.ts). Closing it closes the QMP clients;
 * the VMs keep running.
 */
import { readdir } from 'node:fs/promises';
import {
  errorMessage,
  type InventoryItem,
  type ProvisionContext,
  type WatchContext,
  type WatchHandle,
} from '@slipway/core';
import { reconcileDevices } from './vm-hotplug.js';
import { isQemuAlive } from './vm-process.js';
import { isVmId, listVms, updateVm, type VmRecord, vmPaths } from './vm-record.js';
import { fromQemuStatus } from './vm-release-status.js';
import { report, type VmRuntime } from './vm-runtime.js';

export async function watchVms(rt: VmRuntime, ctx: WatchContext): Promise<WatchHandle> {
  rt.store = ctx.store;
  rt.logger = ctx.logger;
  const reporter = ctx.report;
  rt.reporters.add(reporter);
  for (const vm of await listVms(ctx.store, rt.config.host.name)) {
    if (ctx.signal.aborted) break;
    await reattach(rt, ctx, vm).catch((error: unknown) =>
      ctx.logger.warn('qemu re-attach failed', { vmId: vm.vmId, error: errorMessage(error) }),
    );
  }
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      rt.reporters.delete(reporter);
      await rt.sessions.closeAll();
    },
  };
}

async function reattach(rt: VmRuntime, ctx: WatchContext, vm: VmRecord): Promise<void> {
  if (vm.state === 'building') return; // its allocate is retried and cleans up first
  if (!isQemuAlive(vm.pid, vm.dir)) {
    if (vm.state !== 'running') return;
    const message = `QEMU process ${vm.pid} was gone when the provisioner started`;
    await updateVm(ctx.store, vm.vmId, (r) => (r.pid === vm.pid ? { ...r, state: 'stopped', message } : undefined));
    await report(rt, vm.resourceId, { state: 'stopped', message });
    return;
  }
  const client = await rt.sessions.get(vm.vmId, vmPaths(vm.dir).qmp, ctx.signal);
  await rt.locks.run(vm.vmId, () => reconcileDevices(rt, ctx.store, vm, client));
  const { status } = await client.queryStatus();
  const now = fromQemuStatus(status);
  ctx.logger.info('qemu re-attached', { vmId: vm.vmId, pid: vm.pid, status });
  await report(rt, vm.resourceId, now);
}

/** What exists on this host: recorded VMs, and VM directories no record explains (orphans). */
export async function inventoryVms(rt: VmRuntime, ctx: ProvisionContext): Promise<InventoryItem[]> {
  const vms = await listVms(ctx.store, rt.config.host.name);
  const items: InventoryItem[] = vms.map((vm) => ({ externalId: vm.vmId, resourceId: vm.resourceId }));
  // Directories of any host's VMs are not orphans (two hosts may share a state dir in tests).
  const known = new Set((await listVms(ctx.store)).map((vm) => vm.vmId));
  const dirs = await readdir(rt.config.stateDir).catch(() => [] as string[]);
  for (const name of dirs) {
    if (isVmId(name) && !known.has(name)) items.push({ externalId: name });
  }
  return items;
}
