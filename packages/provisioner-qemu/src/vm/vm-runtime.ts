/**
 * What one provisioner instance keeps in memory beside the store: the QMP sessions, a lock per
 * VM, builds in flight, and the watchers to tell about changes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Logger, type MachineReport, type ProvisionerStore, SlipwayError, silentLogger } from '@slipway/core';
import type { QemuImage, QemuProvisionerConfig } from '../config.js';
import { KeyedLock, QmpSessions } from './qmp-sessions.js';
import { readVm, type VmRecord, vmIdFor } from './vm-record.js';

export type Reporter = (resourceId: string, report: MachineReport) => Promise<void>;

export interface VmRuntime {
  readonly config: QemuProvisionerConfig;
  readonly accel: 'tcg' | 'kvm';
  readonly sessions: QmpSessions;
  readonly locks: KeyedLock;
  /** Builds running in this process, by VM id: release waits for them before tearing down. */
  readonly builds: Map<string, Promise<unknown>>;
  /** VMs whose QEMU we are ending on purpose: their disconnect is no news. */
  readonly quitting: Set<string>;
  /** Active watchers (normally one). */
  readonly reporters: Set<Reporter>;
  /** The store event handlers write to (the watcher's, else the last caller's). */
  store?: ProvisionerStore;
  logger: Logger;
}

export function createRuntime(config: QemuProvisionerConfig): VmRuntime {
  const runtime: VmRuntime = {
    config,
    accel: resolveAccel(config.accel),
    sessions: new QmpSessions({ connectMs: config.timeouts.qmpConnectMs, logger: () => runtime.logger }),
    locks: new KeyedLock(),
    builds: new Map(),
    quitting: new Set(),
    reporters: new Set(),
    logger: silentLogger,
  };
  return runtime;
}

/** Tell every watcher; a failing watcher never fails the operation. */
export async function report(rt: VmRuntime, resourceId: string, change: MachineReport): Promise<void> {
  await Promise.all(
    [...rt.reporters].map((reporter) =>
      reporter(resourceId, change).catch((error: unknown) =>
        rt.logger.warn('qemu watcher report failed', { resourceId, error: String(error) }),
      ),
    ),
  );
}

/**
 * `tcg` and `kvm` as asked. `auto` takes KVM only when /dev/kvm is there and the host is not a
 * nested PVM guest (`kvm_pvm` loaded): there `query-kvm` says enabled, yet real kernels crawl.
 */
export function resolveAccel(accel: QemuProvisionerConfig['accel']): 'tcg' | 'kvm' {
  if (accel !== 'auto') return accel;
  if (!existsSync('/dev/kvm')) return 'tcg';
  try {
    if (/^kvm_pvm\s/m.test(readFileSync('/proc/modules', 'utf8'))) return 'tcg';
  } catch {
    return 'tcg';
  }
  return 'kvm';
}

/** The VM of an allocation on this host; NOT_FOUND when there is none, INVALID_STATE when another host runs it. */
export async function requireVm(
  rt: VmRuntime,
  store: ProvisionerStore,
  allocation: { resourceId: string },
): Promise<VmRecord> {
  const vm = await readVm(store, vmIdFor(allocation.resourceId));
  if (!vm) throw new SlipwayError('NOT_FOUND', `no QEMU VM for resource ${allocation.resourceId}`);
  if (vm.host !== rt.config.host.name) {
    throw new SlipwayError('INVALID_STATE', `VM ${vm.vmId} runs on host ${vm.host}, not on ${rt.config.host.name}`, {
      details: { host: vm.host },
      retryable: true,
    });
  }
  if (vm.state === 'building') throw new SlipwayError('INVALID_STATE', `VM ${vm.vmId} is still being built`);
  return vm;
}

export function imageOf(rt: VmRuntime, vm: Pick<VmRecord, 'image' | 'vmId'>): QemuImage {
  const image = rt.config.catalog.images[vm.image];
  if (!image) {
    throw new SlipwayError('PROVISIONER_FAILED', `VM ${vm.vmId} uses image ${vm.image}, no longer in the catalog`);
  }
  return image;
}

/** Bind the runtime to the caller's store and logger (event handlers use the latest). */
export function touch(rt: VmRuntime, ctx: { store: ProvisionerStore; logger: Logger }): void {
  rt.store ??= ctx.store;
  if (rt.logger === silentLogger) rt.logger = ctx.logger;
}

/** Run `fn` while the VM's QEMU is expected to exit (a stop, restart or release in progress). */
export async function quittingWhile<T>(rt: VmRuntime, vmId: string, fn: () => Promise<T>): Promise<T> {
  rt.quitting.add(vmId);
  try {
    return await fn();
  } finally {
    rt.quitting.delete(vmId);
  }
}
