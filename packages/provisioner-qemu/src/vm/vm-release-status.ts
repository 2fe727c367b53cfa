/**
 * release (graceful shutdown, then the directory and the record go; idempotent) and status
 * (QMP `query-status` plus the process; another host's VM answers from its record).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Allocation,
  type AllocationStatus,
  allocationRecords,
  errorMessage,
  type ProvisionContext,
  SlipwayError,
} from '@slipway/core';
import { destroyVm } from './vm-allocate.js';
import { shutdownVm } from './vm-lifecycle.js';
import { isQemuAlive, qemuLogTail } from './vm-process.js';
import { allocationState, deleteVm, isVmId, readVm, updateVm, type VmRecord, vmIdFor, vmPaths } from './vm-record.js';
import { touch, type VmRuntime } from './vm-runtime.js';

const vmIdOf = (allocation: Allocation) =>
  isVmId(allocation.externalId) ? allocation.externalId : vmIdFor(allocation.resourceId);

export async function releaseVm(rt: VmRuntime, allocation: Allocation, ctx: ProvisionContext): Promise<void> {
  touch(rt, ctx);
  const vmId = vmIdOf(allocation);
  // A build of this VM still running here (its caller gave up) settles first, then goes too.
  await rt.builds.get(vmId)?.catch(() => undefined);
  await rt.locks.run(vmId, async () => {
    const vm = await readVm(ctx.store, vmId);
    if (vm && vm.host !== rt.config.host.name) {
      throw new SlipwayError('INVALID_STATE', `VM ${vmId} runs on host ${vm.host}; only that host can release it`, {
        details: { host: vm.host },
        retryable: true,
      });
    }
    await allocationRecords(ctx.store).forget(allocation.resourceId);
    if (!vm) return destroyVm(rt, ctx, vmId); // nothing recorded: only leftovers, if any
    const how = await shutdownVm(rt, vm, rt.config.timeouts.releaseShutdownMs, ctx.signal);
    await rm(vm.dir, { recursive: true, force: true });
    await deleteVm(ctx.store, vmId);
    ctx.events.emit({ action: 'qemu.vm_deleted', data: { vmId, host: vm.host, shutdown: how } });
  });
}

export async function vmStatus(
  rt: VmRuntime,
  allocation: Allocation,
  ctx: ProvisionContext,
): Promise<AllocationStatus> {
  touch(rt, ctx);
  const vm = await readVm(ctx.store, vmIdOf(allocation));
  if (!vm) return { state: 'gone' };
  const where = { ip: vm.ip, sshPort: vm.sshPort };
  if (vm.host !== rt.config.host.name) {
    return {
      state: allocationState(vm.state),
      ...where,
      message: `on host ${vm.host}; last recorded ${vm.updatedAt}${vm.message ? `: ${vm.message}` : ''}`,
    };
  }
  if (vm.state === 'building') return { state: 'provisioning', ...where };
  if (!isQemuAlive(vm.pid, vm.dir)) return { ...(await markExited(rt, ctx, vm)), ...where };
  try {
    const client = await rt.sessions.get(vm.vmId, vmPaths(vm.dir).qmp, ctx.signal);
    return { ...fromQemuStatus((await client.queryStatus()).status), ...where };
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    return {
      state: allocationState(vm.state),
      ...where,
      message: `QEMU ${vm.pid} runs but QMP does not answer: ${errorMessage(error)}`,
    };
  }
}

/** QMP's run states, as the contract's. */
export function fromQemuStatus(status: string): Pick<AllocationStatus, 'state' | 'message'> {
  switch (status) {
    case 'running':
      return { state: 'running' };
    case 'prelaunch':
    case 'inmigrate':
    case 'restore-vm':
    case 'finish-migrate':
    case 'postmigrate':
      return { state: 'provisioning', message: `QEMU is in ${status}` };
    case 'shutdown':
      return { state: 'stopped', message: 'the guest powered off' };
    case 'paused':
    case 'suspended':
    case 'save-vm':
    case 'debug':
      return { state: 'stopped', message: `QEMU is ${status}` };
    default: // guest-panicked, internal-error, io-error, watchdog, colo
      return { state: 'failed', message: `QEMU is in ${status}` };
  }
}

/** A VM whose QEMU is gone: stopped (on purpose, or with what QEMU last said), recorded so. */
async function markExited(rt: VmRuntime, ctx: ProvisionContext, vm: VmRecord): Promise<AllocationStatus> {
  if (vm.state === 'stopped' || vm.state === 'failed') {
    return { state: vm.state, ...(vm.message ? { message: vm.message } : {}) };
  }
  const tail = qemuLogTail(join(vm.dir, 'qemu.log'));
  const message = `QEMU process ${vm.pid} is gone${tail ? `: ${tail}` : ''}`;
  await rt.sessions.drop(vm.vmId);
  await updateVm(ctx.store, vm.vmId, (r) => (r.state === 'running' ? { ...r, state: 'stopped', message } : undefined));
  return { state: 'stopped', message };
}
