/**
 * Hotplug: a disk (a qcow2 in the VM directory: `blockdev-add` file + qcow2 nodes,
 * `virtio-blk-pci`) or a NIC (`netdev_add user`, `virtio-net-pci`), each on a spare root port.
 * Detach marks the device `detaching` first, sends `device_del`, and waits for its
 * DEVICE_DELETED; only then do the block nodes or netdev go. A guest that does not answer in
 * time leaves it pending: the event (or a reset, or a respawn) finishes it later and the
 * watcher reports `deviceDetached`. Devices of a stopped VM change in the record only.
 */
import { rm } from 'node:fs/promises';
import type { DetachResult, HotplugDevice, ProvisionContext, ProvisionerStore } from '@slipway/core';
import { errorMessage, SlipwayError, sleep } from '@slipway/core';
import { z } from 'zod';
import type { QmpClient } from '../qmp/qmp-client.js';
import { QmpError } from '../qmp/qmp-errors.js';
import { createDisk } from './host-tools.js';
import { hotplugPortNames, macFor, qemuIds } from './qemu-args.js';
import { isQemuAlive } from './vm-process.js';
import { readVm, updateVm, type VmDevice, type VmRecord, vmPaths } from './vm-record.js';
import { report, requireVm, touch, type VmRuntime } from './vm-runtime.js';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const DiskOptions = z.object({ sizeGb: z.number().int().min(1).max(16_384) }).strict();
const NicOptions = z.object({}).strict();

function invalid(field: string, message: string): SlipwayError {
  return new SlipwayError('VALIDATION_FAILED', `${field}: ${message}`, { details: { field } });
}

/** A device id already in use. */
const duplicate = (id: string) =>
  new SlipwayError('CONFLICT', `a device ${id} is already attached`, { details: { field: 'id' } });

function parseDevice(device: HotplugDevice): { sizeGb?: number } {
  if (!DEVICE_ID.test(device.id)) invalidThrow('id', 'device ids are 1-32 of [A-Za-z0-9_.-]');
  const schema = device.type === 'disk' ? DiskOptions : device.type === 'nic' ? NicOptions : undefined;
  if (!schema) invalidThrow('type', 'must be disk or nic');
  const parsed = schema.safeParse(device.options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.length ? issue.path.join('.') : issue && 'keys' in issue ? String(issue.keys) : '';
    invalidThrow(['options', key].filter(Boolean).join('.'), issue?.message ?? 'invalid');
  }
  return parsed.data;
}

function invalidThrow(field: string, message: string): never {
  throw invalid(field, message);
}

async function liveClient(rt: VmRuntime, vm: VmRecord, signal: AbortSignal): Promise<QmpClient | undefined> {
  if (!isQemuAlive(vm.pid, vm.dir)) return undefined;
  return rt.sessions.get(vm.vmId, vmPaths(vm.dir).qmp, signal);
}

export async function attachDevice(
  rt: VmRuntime,
  target: { resourceId: string },
  device: HotplugDevice,
  ctx: ProvisionContext,
) {
  touch(rt, ctx);
  const options = parseDevice(device);
  const { vmId } = await requireVm(rt, ctx.store, target);
  await rt.locks.run(vmId, async () => {
    const vm = await requireVm(rt, ctx.store, target);
    if (vm.devices.some((d) => d.id === device.id)) throw duplicate(device.id);
    const used = new Set(vm.devices.map((d) => d.port));
    const port = hotplugPortNames(rt.config.hotplugPorts).find((p) => !used.has(p));
    if (!port)
      throw new SlipwayError('INVALID_STATE', `all ${rt.config.hotplugPorts} hotplug ports of ${vmId} are in use`);
    const entry: VmDevice = { id: device.id, type: device.type, state: 'attached', port };
    if (device.type === 'disk') {
      entry.sizeGb = options.sizeGb ?? 1;
      await createDisk(rt.config, vmPaths(vm.dir).disk(device.id), entry.sizeGb, ctx.signal);
    } else {
      entry.mac = macFor(vmId, device.id);
    }
    try {
      const client = await liveClient(rt, vm, ctx.signal);
      if (client) await plug(client, vm, entry, ctx.signal);
    } catch (error) {
      if (entry.type === 'disk') await rm(vmPaths(vm.dir).disk(entry.id), { force: true });
      throw error;
    }
    await updateVm(ctx.store, vmId, (r) => ({ ...r, devices: [...r.devices, entry] }));
    ctx.events.emit({ action: 'qemu.device_attached', data: { vmId, device: device.id, type: device.type, port } });
  });
}

async function plug(client: QmpClient, vm: VmRecord, device: VmDevice, signal: AbortSignal) {
  const ids = qemuIds(device.id);
  const opts = { signal };
  if (device.type === 'disk') {
    const filename = vmPaths(vm.dir).disk(device.id);
    await client.execute('blockdev-add', { driver: 'file', 'node-name': ids.file, filename }, opts);
    try {
      await client.execute('blockdev-add', { driver: 'qcow2', 'node-name': ids.format, file: ids.file }, opts);
      try {
        const args = { driver: 'virtio-blk-pci', id: ids.device, drive: ids.format, bus: device.port };
        await client.execute('device_add', args, opts);
      } catch (error) {
        await client.execute('blockdev-del', { 'node-name': ids.format }).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      await client.execute('blockdev-del', { 'node-name': ids.file }).catch(() => undefined);
      throw error;
    }
    return;
  }
  await client.execute('netdev_add', { type: 'user', id: ids.netdev }, opts);
  try {
    const args = {
      driver: 'virtio-net-pci',
      id: ids.device,
      netdev: ids.netdev,
      mac: device.mac ?? '',
      bus: device.port,
    };
    await client.execute('device_add', args, opts);
  } catch (error) {
    await client.execute('netdev_del', { id: ids.netdev }).catch(() => undefined);
    throw error;
  }
}

export async function detachDevice(
  rt: VmRuntime,
  target: { resourceId: string },
  deviceId: string,
  ctx: ProvisionContext,
): Promise<DetachResult> {
  touch(rt, ctx);
  const { vmId } = await requireVm(rt, ctx.store, target);
  return rt.locks.run(vmId, async (): Promise<DetachResult> => {
    const vm = await requireVm(rt, ctx.store, target);
    const device = vm.devices.find((d) => d.id === deviceId);
    if (!device) throw new SlipwayError('NOT_FOUND', `VM ${vmId} has no device ${deviceId}`);
    // The marker goes first: whoever sees DEVICE_DELETED (now or after a restart) knows to finish it.
    await updateVm(ctx.store, vmId, (r) => ({
      ...r,
      devices: r.devices.map((d) => (d.id === deviceId ? { ...d, state: 'detaching' } : d)),
    }));
    const client = await liveClient(rt, vm, ctx.signal);
    if (!client) {
      await finishDetach(rt, ctx.store, vmId, deviceId, undefined);
      return { state: 'detached' };
    }
    const qemuId = qemuIds(deviceId).device;
    const since = client.marker();
    try {
      await client.execute('device_del', { id: qemuId }, { signal: ctx.signal });
    } catch (error) {
      const gone = error instanceof QmpError && error.class === 'DeviceNotFound';
      if (!gone && !(error instanceof QmpError && /already in the process of unplug/.test(error.desc))) throw error;
    }
    const outcome = await waitForUnplug(client, qemuId, since, rt.config.timeouts.detachMs, ctx.signal);
    if (outcome === 'refused') {
      await updateVm(ctx.store, vmId, (r) => ({
        ...r,
        devices: r.devices.map((d) => (d.id === deviceId ? { ...d, state: 'attached' } : d)),
      }));
      throw new SlipwayError('PROVISIONER_FAILED', `the guest refused to release device ${deviceId}`);
    }
    if (outcome === 'pending') return { state: 'pending' };
    await finishDetach(rt, ctx.store, vmId, deviceId, client);
    return { state: 'detached' };
  });
}

/** DEVICE_DELETED of the device itself (not its `/virtio-backend` child), a guest refusal, or the deadline. */
async function waitForUnplug(client: QmpClient, qemuId: string, since: number, timeoutMs: number, signal: AbortSignal) {
  const ours = (data: Record<string, unknown>) =>
    data.device === qemuId || data.path === `/machine/peripheral/${qemuId}`;
  const done = new AbortController(); // the losing wait stops with the winner
  const waiting = { since, timeoutMs, signal: AbortSignal.any([signal, done.signal]) };
  try {
    const event = await Promise.any([
      client.waitForEvent('DEVICE_DELETED', (e) => ours(e.data), waiting),
      client.waitForEvent('DEVICE_UNPLUG_GUEST_ERROR', (e) => ours(e.data), waiting),
    ]);
    return event.event === 'DEVICE_DELETED' ? 'deleted' : 'refused';
  } catch {
    signal.throwIfAborted();
    return 'pending';
  } finally {
    done.abort();
  }
}

/**
 * The second half of a detach, once QEMU has removed the device: block nodes or netdev
 * (retrying while QEMU still says "is in use"), the disk file, the record entry. No-op unless
 * the device is `detaching`. Reports `deviceDetached` when it finished one.
 */
export async function finishDetach(
  rt: VmRuntime,
  store: ProvisionerStore,
  vmId: string,
  deviceId: string,
  client: QmpClient | undefined,
): Promise<boolean> {
  const vm = await readVm(store, vmId);
  const device = vm?.devices.find((d) => d.id === deviceId && d.state === 'detaching');
  if (!vm || !device) return false;
  const ids = qemuIds(deviceId);
  if (client) {
    const steps =
      device.type === 'disk'
        ? [['blockdev-del', { 'node-name': ids.format }] as const, ['blockdev-del', { 'node-name': ids.file }] as const]
        : [['netdev_del', { id: ids.netdev }] as const];
    for (const [command, args] of steps) await retryInUse(() => client.execute(command, args));
  }
  if (device.type === 'disk') await rm(vmPaths(vm.dir).disk(deviceId), { force: true });
  await updateVm(store, vmId, (r) => ({ ...r, devices: r.devices.filter((d) => d.id !== deviceId) }));
  await report(rt, vm.resourceId, { deviceDetached: deviceId });
  return true;
}

async function retryInUse(run: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return;
    } catch (error) {
      if (!(error instanceof QmpError)) throw error;
      if (/is in use/.test(error.desc) && attempt < 40) {
        await sleep(50);
        continue;
      }
      // Already gone (a node or netdev QEMU removed with its device): nothing left to do.
      if (/not found|cannot find|no such/i.test(error.desc) || error.class === 'DeviceNotFound') return;
      throw new SlipwayError('PROVISIONER_FAILED', `cleanup after unplug failed: ${errorMessage(error)}`);
    }
  }
}

/** Before a respawn: devices that were detaching are not in the new QEMU; finish them. */
export async function finishOfflineDetaches(rt: VmRuntime, store: ProvisionerStore, vm: VmRecord) {
  for (const device of vm.devices.filter((d) => d.state === 'detaching')) {
    await finishDetach(rt, store, vm.vmId, device.id, undefined);
  }
}

/**
 * After (re)connecting: detaches whose DEVICE_DELETED came while nobody listened are finished
 * (libvirt's qemuProcessUpdateDevices does the same diff of /machine/peripheral).
 */
export async function reconcileDevices(rt: VmRuntime, store: ProvisionerStore, vm: VmRecord, client: QmpClient) {
  const listed = await client.execute('qom-list', { path: '/machine/peripheral' });
  const present = new Set(
    (Array.isArray(listed) ? listed : []).flatMap((p) =>
      p && typeof p === 'object' && !Array.isArray(p) && typeof p.name === 'string' ? [p.name] : [],
    ),
  );
  for (const device of vm.devices) {
    const inQemu = present.has(qemuIds(device.id).device);
    if (device.state === 'detaching' && !inQemu) await finishDetach(rt, store, vm.vmId, device.id, client);
    if (device.state === 'attached' && !inQemu) {
      rt.logger.warn('qemu device in the record is missing from QEMU', { vmId: vm.vmId, device: device.id });
    }
  }
}
