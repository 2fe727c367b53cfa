/**
 * The QEMU command line of a VM, from its record: q35 with spare PCIe root ports for hotplug,
 * the overlay as a virtio disk, the seed as a read-only cdrom, user-mode networking with SSH
 * forwarded, QMP and serial on files in the VM directory, started paused (`-S`).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { QemuImage, QemuProvisionerConfig } from '../config.js';
import { type VmDevice, type VmRecord, vmPaths } from './vm-record.js';

/** QEMU ids of a hot-plugged device: the device, its block nodes or netdev. */
export function qemuIds(id: string) {
  return { device: `dev-${id}`, file: `nf-${id}`, format: `nd-${id}`, netdev: `nn-${id}` };
}

/** `hp1` … `hp<n>`: the spare root ports. */
export const hotplugPortNames = (count: number) => Array.from({ length: count }, (_, i) => `hp${i + 1}`);

/** A stable locally administered MAC (QEMU's 52:54:00 prefix) for a VM and NIC name. */
export function macFor(vmId: string, nic: string): string {
  const hex = createHash('sha256').update(`${vmId}/${nic}`).digest('hex');
  return `52:54:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

export function qemuArgs(
  vm: VmRecord,
  image: QemuImage,
  config: Pick<QemuProvisionerConfig, 'machine' | 'hotplugPorts' | 'hotplug' | 'sshBindAddress'>,
  accel: 'tcg' | 'kvm',
): string[] {
  const paths = vmPaths(vm.dir);
  const args = [
    ...['-name', `guest=${vm.vmId}`],
    ...['-machine', config.machine, '-accel', accel],
    ...['-nodefaults', '-display', 'none', '-no-user-config', '-S'],
    // A guest poweroff keeps the process (status `shutdown`): we see it, and `start` boots it again at once.
    '-no-shutdown',
    ...['-smp', String(Math.ceil(vm.size.vcpu)), '-m', `${vm.size.memoryMb}M`],
    ...['-qmp', `unix:${paths.qmp},server=on,wait=off`],
    // Appended, not truncated: the console of every boot stays (a crash before a restart included).
    ...['-chardev', `file,id=serial0,path=${paths.serial},append=on`, '-serial', 'chardev:serial0'],
    ...['-pidfile', paths.pidfile],
    ...['-drive', `file=${paths.overlay},format=qcow2,if=none,id=root,discard=unmap`],
    ...['-device', 'virtio-blk-pci,drive=root,id=root-disk,bus=pcie.0,bootindex=1'],
    ...['-drive', `file=${paths.seed},format=raw,if=none,id=seed,media=cdrom,readonly=on`],
    ...['-device', 'ide-cd,drive=seed,bus=ide.0'],
    ...['-netdev', `user,id=net0,hostfwd=tcp:${config.sshBindAddress}:${vm.sshPort}-:22`],
    ...['-device', `virtio-net-pci,netdev=net0,id=nic0,mac=${vm.mac},bus=pcie.0`],
    // Reports guest kernel panics as GUEST_PANICKED (when the guest has the pvpanic driver).
    ...['-device', 'pvpanic'],
  ];
  if (config.hotplug === 'native') args.push('-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off');
  hotplugPortNames(config.hotplugPorts).forEach((port, i) => {
    args.push('-device', `pcie-root-port,id=${port},bus=pcie.0,chassis=${i + 1},slot=${i + 1}`);
  });
  if (image.kernel) args.push('-kernel', image.kernel);
  if (image.initrd) args.push('-initrd', image.initrd);
  if (image.append) args.push('-append', image.append);
  for (const device of vm.devices) {
    if (device.state === 'attached') args.push(...deviceArgs(vm, device));
  }
  return args;
}

/** A device attached before a respawn comes back on the command line, on the same port. */
function deviceArgs(vm: VmRecord, device: VmDevice): string[] {
  const ids = qemuIds(device.id);
  if (device.type === 'disk') {
    const file = vmPaths(vm.dir).disk(device.id);
    return [
      ...['-blockdev', `driver=file,node-name=${ids.file},filename=${file}`],
      ...['-blockdev', `driver=qcow2,node-name=${ids.format},file=${ids.file}`],
      ...['-device', `virtio-blk-pci,id=${ids.device},drive=${ids.format},bus=${device.port}`],
    ];
  }
  return [
    ...['-netdev', `user,id=${ids.netdev}`],
    ...['-device', `virtio-net-pci,id=${ids.device},netdev=${ids.netdev},mac=${device.mac},bus=${device.port}`],
  ];
}

/** A TCP port free on `address` right now (the kernel's pick). */
export function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, address, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound ? bound.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}
