/**
 * Booting a VM's QEMU from its record, and shutting it down: ACPI powerdown with a deadline,
 * then `quit`, then SIGKILL of its process group.
 */
import { rm } from 'node:fs/promises';
import { errorMessage, type ProvisionerStore, SlipwayError } from '@slipway/core';
import type { QmpClient } from '../qmp/qmp-client.js';
import { QMP_DISCONNECTED } from '../qmp/qmp-client-options.js';
import { freePort, qemuArgs } from './qemu-args.js';
import { isQemuAlive, killQemu, qemuLogTail, spawnQemu, waitForExit } from './vm-process.js';
import { updateVm, type VmRecord, vmPaths } from './vm-record.js';
import { imageOf, quittingWhile, type VmRuntime } from './vm-runtime.js';

/**
 * Spawn QEMU paused for `vm`, connect QMP, `cont`. The record gets the pid first (so a crash
 * right after leaves something release can find), then `running`. Retries once on a new SSH
 * port when the recorded one is taken. Throws with QEMU's own words when it dies on start.
 */
export async function bootVm(
  rt: VmRuntime,
  store: ProvisionerStore,
  vm: VmRecord,
  signal: AbortSignal,
): Promise<VmRecord> {
  const paths = vmPaths(vm.dir);
  let current = vm;
  for (let attempt = 1; ; attempt++) {
    await rm(paths.qmp, { force: true });
    await rm(paths.pidfile, { force: true });
    const spawned = await spawnQemu(
      rt.config.qemuBinary,
      qemuArgs(current, imageOf(rt, current), rt.config, rt.accel),
      paths.log,
    );
    current = (await updateVm(store, vm.vmId, (r) => ({ ...r, pid: spawned.pid }))) ?? { ...current, pid: spawned.pid };
    let client: QmpClient;
    try {
      client = await Promise.race([
        rt.sessions.get(vm.vmId, paths.qmp, signal),
        spawned.exited.then((how) => {
          throw new SlipwayError('PROVISIONER_FAILED', `QEMU exited on start (${how}): ${qemuLogTail(paths.log)}`);
        }),
      ]);
    } catch (error) {
      killQemu(spawned.pid, vm.dir);
      await rt.sessions.drop(vm.vmId);
      const portTaken = /host ?forward/i.test(qemuLogTail(paths.log, 5));
      if (attempt === 1 && portTaken && !signal.aborted) {
        const sshPort = await freePort(rt.config.sshBindAddress);
        current = (await updateVm(store, vm.vmId, (r) => ({ ...r, sshPort }))) ?? { ...current, sshPort };
        continue;
      }
      throw error;
    }
    await client.execute('cont', undefined, { signal });
    const running = await updateVm(store, vm.vmId, (r) => ({ ...r, state: 'running', message: undefined }));
    return running ?? { ...current, state: 'running' };
  }
}

export type ShutdownHow = 'not-running' | 'acpi' | 'quit' | 'killed';

/**
 * Stop the VM's QEMU for good: the ACPI power button and up to `graceMs` for the guest to power
 * off, then `quit`, then SIGKILL. The QMP client is dropped. Resolves once the process is gone.
 */
export function shutdownVm(rt: VmRuntime, vm: VmRecord, graceMs: number, signal: AbortSignal): Promise<ShutdownHow> {
  return quittingWhile(rt, vm.vmId, () => shutdownNow(rt, vm, graceMs, signal));
}

async function shutdownNow(rt: VmRuntime, vm: VmRecord, graceMs: number, signal: AbortSignal): Promise<ShutdownHow> {
  if (!isQemuAlive(vm.pid, vm.dir)) {
    await rt.sessions.drop(vm.vmId);
    return 'not-running';
  }
  let how: ShutdownHow = 'killed';
  const client = await rt.sessions.get(vm.vmId, vmPaths(vm.dir).qmp, signal).catch(() => undefined);
  if (client) {
    try {
      if (graceMs > 0 && (await client.queryStatus()).running && (await powerdown(client, graceMs, signal))) {
        how = 'acpi';
      }
      const since = client.marker();
      await client.execute('quit').catch(() => undefined);
      await client.waitForEvent(QMP_DISCONNECTED, undefined, { since, timeoutMs: rt.config.timeouts.exitMs });
      if (how !== 'acpi') how = 'quit';
    } catch (error) {
      rt.logger.warn('qemu graceful shutdown failed; killing it', { vmId: vm.vmId, error: errorMessage(error) });
    }
  }
  await rt.sessions.drop(vm.vmId);
  if (!(await waitForExit(vm.pid, vm.dir, rt.config.timeouts.exitMs, signal))) {
    killQemu(vm.pid, vm.dir);
    how = 'killed';
    if (!(await waitForExit(vm.pid, vm.dir, rt.config.timeouts.exitMs, signal))) {
      throw new SlipwayError('PROVISIONER_FAILED', `QEMU ${vm.pid} of ${vm.vmId} survived SIGKILL`);
    }
  }
  return how;
}

/**
 * Press the ACPI power button and wait up to `graceMs` for the guest to power off
 * (`SHUTDOWN` from the guest; with -no-shutdown the process stays). True when it did.
 */
export async function powerdown(client: QmpClient, graceMs: number, signal: AbortSignal): Promise<boolean> {
  const since = client.marker();
  await client.execute('system_powerdown', undefined, { signal });
  try {
    await client.waitForEvent('SHUTDOWN', (e) => e.data.guest === true, { since, timeoutMs: graceMs, signal });
    return true;
  } catch (error) {
    if (signal.aborted) throw error;
    return false;
  }
}
