/**
 * Attach then detach of a disk and of a NIC on a running guest: through the plugin (via the
 * core's RuntimeProvisioner) and as raw QMP on a bare QEMU with the same command line. Both do
 * the same work: `qemu-img create` of a 1 GB qcow2 (disks), `blockdev-add` ×2 or `netdev_add`,
 * `device_add` on root port hp1; then `device_del`, the device's own DEVICE_DELETED, and
 * `blockdev-del` ×2 (retried while QEMU says "in use", as the plugin does) or `netdev_del`,
 * and removing the disk file. Between steps, untimed, the guest is waited for until it sees
 * the device appear or go, so every step starts from the same state.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Allocation, RuntimeProvisioner } from '@slipway/core';
import { type RawQmp, untilDevices } from './qemu-bare.js';

export type DeviceKind = 'disk' | 'nic';

export interface HotplugTimes {
  attachMs: number[];
  detachMs: number[];
}

/** What the guest shows when the hot-plugged device is there (GUEST-DEVS line). */
const IN_GUEST: Record<DeviceKind, RegExp> = { disk: /blk=[^ ]*vd[b-z]/, nic: /net=[^ ]*eth[1-9]/ };
const NO_EVENTS = { events: { emit: () => {} } };
const run = promisify(execFile);

export interface HotplugTarget {
  /** Attach then detach one device; pushes the two times. */
  cycle(kind: DeviceKind, id: string, into: HotplugTimes): Promise<void>;
}

export function pluginTarget(runtime: RuntimeProvisioner, allocation: Allocation, serial: string): HotplugTarget {
  return {
    async cycle(kind, id, into) {
      const t0 = performance.now();
      await runtime.attach(allocation, { type: kind, id, options: kind === 'disk' ? { sizeGb: 1 } : {} }, NO_EVENTS);
      into.attachMs.push(performance.now() - t0);
      await untilDevices(serial, IN_GUEST[kind], true);
      const t1 = performance.now();
      const result = await runtime.detach(allocation, id, NO_EVENTS);
      into.detachMs.push(performance.now() - t1);
      if (result.state !== 'detached') throw new Error(`plugin detach of ${id} answered ${result.state}`);
      await untilDevices(serial, IN_GUEST[kind], false);
    },
  };
}

export function rawTarget(qmp: RawQmp, dir: string, serial: string): HotplugTarget {
  return {
    async cycle(kind, id, into) {
      const ids = { device: `dev-${id}`, file: `nf-${id}`, format: `nd-${id}`, netdev: `nn-${id}` };
      const disk = join(dir, `disk-${id}.qcow2`);
      const t0 = performance.now();
      if (kind === 'disk') {
        await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1G']);
        await qmp.execute('blockdev-add', { driver: 'file', 'node-name': ids.file, filename: disk });
        await qmp.execute('blockdev-add', { driver: 'qcow2', 'node-name': ids.format, file: ids.file });
        await qmp.execute('device_add', { driver: 'virtio-blk-pci', id: ids.device, drive: ids.format, bus: 'hp1' });
      } else {
        await qmp.execute('netdev_add', { type: 'user', id: ids.netdev });
        const mac = '52:54:00:be:0c:01';
        await qmp.execute('device_add', {
          driver: 'virtio-net-pci',
          id: ids.device,
          netdev: ids.netdev,
          mac,
          bus: 'hp1',
        });
      }
      into.attachMs.push(performance.now() - t0);
      await untilDevices(serial, IN_GUEST[kind], true);
      const t1 = performance.now();
      const since = qmp.events.length;
      await qmp.execute('device_del', { id: ids.device });
      // Two DEVICE_DELETED per virtio device: the /virtio-backend child's first, then the device's.
      await qmp.waitForEvent(since, (e) => e.event === 'DEVICE_DELETED' && e.data?.device === ids.device);
      if (kind === 'disk') {
        await retryInUse(() => qmp.execute('blockdev-del', { 'node-name': ids.format }));
        await retryInUse(() => qmp.execute('blockdev-del', { 'node-name': ids.file }));
        await rm(disk, { force: true });
      } else {
        await qmp.execute('netdev_del', { id: ids.netdev });
      }
      into.detachMs.push(performance.now() - t1);
      await untilDevices(serial, IN_GUEST[kind], false);
    },
  };
}

async function retryInUse(fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return;
    } catch (error) {
      if (!(error instanceof Error && /is in use/.test(error.message)) || attempt >= 40) throw error;
      await sleep(50);
    }
  }
}
