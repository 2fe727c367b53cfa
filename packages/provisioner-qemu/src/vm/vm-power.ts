/**
 * Power: start, stop (ACPI, forced after a deadline), restart, reset hard (`system_reset`) and
 * soft (ACPI powerdown, then boot), and resize (recorded, applied when QEMU is next spawned).
 * Stop ends the QEMU process (a stopped VM holds no memory); start spawns it again from the
 * record. A guest that powers itself off keeps its process (-no-shutdown) and boots again by
 * `system_reset` + `cont`, unless a resize is pending, which needs a new process.
 */
import type { PowerResult, ProvisionContext, ReconfigureChange, ReconfigureResult } from '@slipway/core';
import { SlipwayError } from '@slipway/core';
import type { QmpClient } from '../qmp/qmp-client.js';
import { checkSize } from './vm-allocate.js';
import { finishOfflineDetaches } from './vm-hotplug.js';
import { bootVm, powerdown, shutdownVm } from './vm-lifecycle.js';
import { isQemuAlive } from './vm-process.js';
import { updateVm, type VmRecord, vmPaths } from './vm-record.js';
import { requireVm, touch, type VmRuntime } from './vm-runtime.js';

type Target = { resourceId: string };

const running = (vm: VmRecord): PowerResult => ({
  running: { vcpu: Math.ceil(vm.size.vcpu), memoryMb: vm.size.memoryMb },
});

/** Run `fn` on the VM under its lock. */
async function withVm<T>(rt: VmRuntime, ctx: ProvisionContext, target: Target, fn: (vm: VmRecord) => Promise<T>) {
  touch(rt, ctx);
  const vm = await requireVm(rt, ctx.store, target);
  return rt.locks.run(vm.vmId, async () => fn(await requireVm(rt, ctx.store, target)));
}

async function clientOf(rt: VmRuntime, vm: VmRecord, signal: AbortSignal): Promise<QmpClient | undefined> {
  if (!isQemuAlive(vm.pid, vm.dir)) return undefined;
  return rt.sessions.get(vm.vmId, vmPaths(vm.dir).qmp, signal);
}

/** Spawn QEMU again from the record, with the pending size and without devices detached meanwhile. */
async function respawn(rt: VmRuntime, ctx: ProvisionContext, vm: VmRecord): Promise<PowerResult> {
  await finishOfflineDetaches(rt, ctx.store, vm);
  const next =
    (await updateVm(ctx.store, vm.vmId, (r) => {
      const { pending, ...rest } = r;
      return { ...rest, size: pending ?? r.size, pid: 0 };
    })) ?? vm;
  const booted = await bootVm(rt, ctx.store, next, ctx.signal);
  ctx.events.emit({ action: 'qemu.vm_started', data: { vmId: vm.vmId, pid: booted.pid, ...booted.size } });
  return running(booted);
}

export function startVm(rt: VmRuntime, target: Target, ctx: ProvisionContext): Promise<PowerResult> {
  return withVm(rt, ctx, target, async (vm) => {
    const client = await clientOf(rt, vm, ctx.signal);
    if (!client) return respawn(rt, ctx, vm);
    const { status } = await client.queryStatus();
    if (status === 'running') return running(vm);
    if (vm.pending) {
      await shutdownVm(rt, vm, 0, ctx.signal);
      return respawn(rt, ctx, vm);
    }
    if (status === 'shutdown') await client.execute('system_reset', undefined, { signal: ctx.signal });
    await client.execute('cont', undefined, { signal: ctx.signal });
    const now = await updateVm(ctx.store, vm.vmId, (r) => ({ ...r, state: 'running', message: undefined }));
    return running(now ?? vm);
  });
}

export function stopVm(rt: VmRuntime, target: Target, ctx: ProvisionContext): Promise<void> {
  return withVm(rt, ctx, target, async (vm) => {
    const how = await shutdownVm(rt, vm, rt.config.timeouts.acpiShutdownMs, ctx.signal);
    await updateVm(ctx.store, vm.vmId, (r) => ({ ...r, state: 'stopped', pid: 0, message: undefined }));
    ctx.events.emit({ action: 'qemu.vm_stopped', data: { vmId: vm.vmId, how } });
  });
}

export function restartVm(rt: VmRuntime, target: Target, ctx: ProvisionContext): Promise<PowerResult> {
  return withVm(rt, ctx, target, async (vm) => {
    const how = await shutdownVm(rt, vm, rt.config.timeouts.acpiShutdownMs, ctx.signal);
    ctx.events.emit({ action: 'qemu.vm_stopped', data: { vmId: vm.vmId, how } });
    return respawn(rt, ctx, vm);
  });
}

export function resetVm(rt: VmRuntime, target: Target, mode: 'hard' | 'soft', ctx: ProvisionContext) {
  return withVm(rt, ctx, target, async (vm): Promise<PowerResult> => {
    const client = await clientOf(rt, vm, ctx.signal);
    if (!client) {
      throw new SlipwayError('INVALID_STATE', `VM ${vm.vmId} is not running; start it instead of resetting it`);
    }
    let how = 'system_reset';
    if (mode === 'soft' && (await client.queryStatus()).running) {
      // The guest powers off on the ACPI button; past the deadline the reset below forces it.
      how = (await powerdown(client, rt.config.timeouts.acpiShutdownMs, ctx.signal)) ? 'acpi' : 'acpi-timeout';
    }
    await client.execute('system_reset', undefined, { signal: ctx.signal });
    const { status } = await client.queryStatus();
    if (status !== 'running') await client.execute('cont', undefined, { signal: ctx.signal });
    await updateVm(ctx.store, vm.vmId, (r) => ({ ...r, state: 'running', message: undefined }));
    ctx.events.emit({ action: 'qemu.vm_reset', data: { vmId: vm.vmId, mode, how } });
    return running(vm);
  });
}

export async function reconfigureVm(
  rt: VmRuntime,
  target: Target,
  change: ReconfigureChange,
  ctx: ProvisionContext,
): Promise<ReconfigureResult> {
  for (const [field, value] of Object.entries(change)) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new SlipwayError('VALIDATION_FAILED', `${field}: must be a positive number`, { details: { field } });
    }
  }
  if (change.memoryMb !== undefined && !Number.isInteger(change.memoryMb)) {
    throw new SlipwayError('VALIDATION_FAILED', 'memoryMb: must be a whole number of MB', {
      details: { field: 'memoryMb' },
    });
  }
  return withVm(rt, ctx, target, async (vm) => {
    const base = vm.pending ?? vm.size;
    const wanted = { vcpu: change.vcpu ?? base.vcpu, memoryMb: change.memoryMb ?? base.memoryMb };
    checkSize(rt.config, { spec: wanted });
    const same = wanted.vcpu === vm.size.vcpu && wanted.memoryMb === vm.size.memoryMb;
    await updateVm(ctx.store, vm.vmId, (r) => {
      const { pending: _dropped, ...rest } = r;
      return same ? rest : { ...rest, pending: wanted };
    });
    return { appliedAt: 'next-boot' };
  });
}
