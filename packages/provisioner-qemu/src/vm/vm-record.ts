/**
 * What the provisioner remembers of each VM, in `ctx.store` under `vm/<vmId>`: enough to find
 * its process and socket after a server restart, to respawn it with the same disks and
 * devices, and to answer `status` on another replica from the last state recorded here.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AllocationStatusState, ProvisionerStore } from '@slipway/core';

export type VmState = 'building' | 'running' | 'stopped' | 'failed';

export interface VmSize {
  vcpu: number;
  memoryMb: number;
}

export interface VmDevice {
  /** The id the user gave (`HotplugDevice.id`). */
  id: string;
  type: 'disk' | 'nic';
  /** `detaching`: device_del was sent and DEVICE_DELETED has not come yet. */
  state: 'attached' | 'detaching';
  /** The PCIe root port it sits on (`hp<n>`). */
  port: string;
  /** Disks: size of the qcow2 in the VM directory (`disk-<id>.qcow2`). */
  sizeGb?: number;
  mac?: string;
}

export interface VmRecord {
  vmId: string;
  resourceId: string;
  /** The host (replica) that runs it; only that one touches the process. */
  host: string;
  dir: string;
  /** 0 while nothing runs. */
  pid: number;
  state: VmState;
  message?: string;
  /** The size the current (or next, when stopped) boot uses. */
  size: VmSize;
  diskGb: number;
  /** A resize waiting for the next boot. */
  pending?: VmSize;
  image: string;
  ip: string;
  sshPort: number;
  mac: string;
  devices: VmDevice[];
  updatedAt: string;
}

const KEY_PREFIX = 'vm/';
export const vmKey = (vmId: string) => `${KEY_PREFIX}${vmId}`;

/** The VM id of a resource: readable when the resource id is a plain token, hashed otherwise. */
export function vmIdFor(resourceId: string): string {
  if (/^[A-Za-z0-9-]{1,40}$/.test(resourceId)) return `vm-${resourceId}`;
  return `vm-${createHash('sha256').update(resourceId).digest('hex').slice(0, 32)}`;
}

/** Our VM ids only; anything else (another provisioner's external id) is not ours. */
export const isVmId = (id: string) => /^vm-[A-Za-z0-9-]{1,40}$/.test(id);

export interface VmPaths {
  dir: string;
  qmp: string;
  serial: string;
  pidfile: string;
  log: string;
  overlay: string;
  seed: string;
  disk(deviceId: string): string;
}

export function vmPaths(dir: string): VmPaths {
  return {
    dir,
    qmp: join(dir, 'qmp.sock'),
    serial: join(dir, 'serial.log'),
    pidfile: join(dir, 'qemu.pid'),
    log: join(dir, 'qemu.log'),
    overlay: join(dir, 'overlay.qcow2'),
    seed: join(dir, 'seed.iso'),
    disk: (deviceId) => join(dir, `disk-${deviceId}.qcow2`),
  };
}

export async function readVm(store: ProvisionerStore, vmId: string): Promise<VmRecord | undefined> {
  return (await store.get<VmRecord>(vmKey(vmId)))?.value;
}

/** Records of one host (or all), for re-attach and inventory. */
export async function listVms(store: ProvisionerStore, host?: string): Promise<VmRecord[]> {
  const entries = await store.list<VmRecord>(KEY_PREFIX);
  return entries.map((e) => e.value).filter((vm) => host === undefined || vm.host === host);
}

/**
 * Change a record with compare-and-set (another replica's status never writes, but a stale read
 * must not undo a newer write). `change` returns the new record; undefined leaves it as is.
 */
export async function updateVm(
  store: ProvisionerStore,
  vmId: string,
  change: (vm: VmRecord) => VmRecord | undefined,
): Promise<VmRecord | undefined> {
  for (;;) {
    const entry = await store.get<VmRecord>(vmKey(vmId));
    if (!entry) return undefined;
    const next = change(structuredClone(entry.value));
    if (!next) return entry.value;
    const written = await store.compareAndSet<VmRecord>(vmKey(vmId), entry.version, {
      ...next,
      updatedAt: new Date().toISOString(),
    });
    if (written) return written.value;
  }
}

export const putVm = (store: ProvisionerStore, vm: VmRecord) =>
  store.put<VmRecord>(vmKey(vm.vmId), { ...vm, updatedAt: new Date().toISOString() });

export const deleteVm = (store: ProvisionerStore, vmId: string) => store.delete(vmKey(vmId));

/** The contract's state for a recorded one. */
export function allocationState(state: VmState): AllocationStatusState {
  return state === 'building' ? 'provisioning' : state;
}
