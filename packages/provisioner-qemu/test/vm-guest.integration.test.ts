// One VM booting the test guest through its whole life: ready, hard reset, hotplug, soft reset,
// resize, stop/start, release; asserted in the guest's serial output. Under CI=true a missing
// QEMU or guest fails it; elsewhere it is skipped with the reason.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mustRunVmTests,
  processesUsing,
  serialLines,
  serialOf,
  testConfig,
  vmTestDirs,
  vmTestsMissingReason,
  waitForDevices,
  waitForSerial,
} from './support/test-guest.js';
import { allocateVm, type Harness, startHarness } from './support/vm-harness.js';

const missing = vmTestsMissingReason();
if (missing && !mustRunVmTests) console.warn(`Skipping the QEMU guest tests: ${missing}`);

const memTotal = (line: string) => Number(/MemTotal: (\d+) kB/.exec(line)?.[1]);

describe.skipIf(missing !== undefined && !mustRunVmTests)('a VM with the test guest', { timeout: 90_000 }, () => {
  const dirs = vmTestDirs();
  let h: Harness;
  let vm: Awaited<ReturnType<typeof allocateVm>>;
  let serial: string;
  const target = () => ({ resourceId: vm.resourceId, externalId: vm.vmId });

  beforeAll(async () => {
    if (missing) throw new Error(`CI=true and the VM tests cannot run: ${missing}`);
    h = await startHarness(testConfig(dirs));
    vm = await allocateVm(h, {
      options: {
        sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtestkey user@test'],
        userData: '#!/bin/sh\necho hi\n',
      },
    });
    serial = serialOf(dirs.stateDir, vm.vmId);
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    const left = processesUsing(dirs.root);
    for (const pid of left) process.kill(pid, 'SIGKILL'); // a failed test must not leave a VM burning CPU
    const vms = existsSync(dirs.stateDir) ? readdirSync(dirs.stateDir) : [];
    rmSync(dirs.root, { recursive: true, force: true });
    expect(left, 'QEMU processes left').toEqual([]);
    expect(vms, 'VM directories left').toEqual([]);
  });

  it('boots to GUEST-READY with the requested size and forwards SSH on loopback', async () => {
    const [ready] = await waitForSerial(serial, /GUEST-READY/);
    expect(ready).toContain('cpus=1');
    expect(memTotal(ready ?? '')).toBeLessThan(256 * 1024);
    expect(vm).toMatchObject({ ip: '127.0.0.1', state: 'running' });
    const socket = connect({ host: '127.0.0.1', port: vm.sshPort ?? 0 });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.destroy();
    expect((await h.p.status(target(), h.ctx())).state).toBe('running');
    expect(await h.p.inventory(h.ctx())).toEqual([{ externalId: vm.vmId, resourceId: vm.resourceId }]);
  });

  it('seeds cloud-init (NoCloud) with instance id, hostname, SSH keys and the user data', () => {
    const iso = join(dirs.stateDir, vm.vmId, 'seed.iso');
    const read = (file: string) => execFileSync('isoinfo', ['-R', '-i', iso, '-x', `/${file}`], { encoding: 'utf8' });
    expect(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' })).toMatch(/Volume id: cidata/i);
    expect(read('meta-data')).toBe(`instance-id: ${vm.vmId}\nlocal-hostname: test-vm\n`);
    const userData = read('user-data');
    expect(userData).toContain('Content-Type: multipart/mixed');
    expect(userData).toContain('ssh_authorized_keys:\n  - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtestkey user@test"');
    expect(userData).toMatch(/Content-Type: text\/x-shellscript[^\n]*\nMIME-Version: 1.0\n\n#!\/bin\/sh\necho hi\n/);
  });

  it('hard reset reboots the guest (GUEST-READY twice) and reports the RESET', async () => {
    const from = h.reports.length;
    await h.p.reset(target(), 'hard', h.ctx());
    await waitForSerial(serial, /GUEST-READY/, 2);
    await h.waitForReport(vm.resourceId, (r) => r.event?.action === 'qemu.reset', from);
  });

  it('hot-plugs a disk and a NIC the guest sees, and detaches them with DEVICE_DELETED', async () => {
    await h.p.attach(target(), { type: 'disk', id: 'data1', options: { sizeGb: 1 } }, h.ctx());
    await waitForDevices(serial, /blk=vda,vdb, net=eth0,lo,/);
    await h.p.attach(target(), { type: 'nic', id: 'lan1' }, h.ctx());
    await waitForDevices(serial, /blk=vda,vdb, net=eth0,eth1,lo,/);
    expect((await h.record(vm.vmId))?.devices.map((d) => [d.id, d.state, d.port])).toEqual([
      ['data1', 'attached', 'hp1'],
      ['lan1', 'attached', 'hp2'],
    ]);

    await expect(h.p.attach(target(), { type: 'nic', id: 'lan1' }, h.ctx())).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { field: 'id' },
    });
    await expect(
      h.p.attach(target(), { type: 'disk', id: 'x', options: { sizeGb: 0 } }, h.ctx()),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'options.sizeGb' } });
    await expect(h.p.detach(target(), 'nope', h.ctx())).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const disk = join(dirs.stateDir, vm.vmId, 'disk-data1.qcow2');
    expect(existsSync(disk)).toBe(true);
    expect(await h.p.detach(target(), 'data1', h.ctx())).toEqual({ state: 'detached' });
    expect(existsSync(disk)).toBe(false);
    expect(await h.p.detach(target(), 'lan1', h.ctx())).toEqual({ state: 'detached' });
    await waitForDevices(serial, /blk=vda, net=eth0,lo,/);
    expect((await h.record(vm.vmId))?.devices).toEqual([]);
  });

  it('soft reset powers the guest off through ACPI, then boots it again', async () => {
    const readyBefore = serialLines(serial, /GUEST-READY/).length;
    const from = h.reports.length;
    await h.p.reset(target(), 'soft', h.ctx());
    expect(serialLines(serial, /GUEST-POWEROFF/)).toHaveLength(1);
    await h.waitForReport(
      vm.resourceId,
      (r) => r.event?.action === 'qemu.shutdown' && r.event.data?.guest === true,
      from,
    );
    await waitForSerial(serial, /GUEST-READY/, readyBefore + 1);
    expect((await h.p.status(target(), h.ctx())).state).toBe('running');
  });

  it('a resize waits for the next boot, a revert drops it, and a restart boots with the new size', async () => {
    const before = memTotal(serialLines(serial, /GUEST-READY/).at(-1) ?? '');
    expect(await h.p.reconfigure(target(), { vcpu: 2 }, h.ctx())).toEqual({ appliedAt: 'next-boot' });
    expect((await h.record(vm.vmId))?.pending).toEqual({ vcpu: 2, memoryMb: 256 });
    await h.p.reconfigure(target(), { vcpu: 1 }, h.ctx()); // back to the running size: a revert
    expect((await h.record(vm.vmId))?.pending).toBeUndefined();
    await h.p.reconfigure(target(), { vcpu: 2, memoryMb: 384 }, h.ctx());
    await expect(h.p.reconfigure(target(), { memoryMb: 100.5 }, h.ctx())).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });

    const readies = serialLines(serial, /GUEST-READY/).length;
    expect(await h.p.restart(target(), h.ctx())).toEqual({ running: { vcpu: 2, memoryMb: 384 } });
    const ready = (await waitForSerial(serial, /GUEST-READY/, readies + 1)).at(-1); // the log spans respawns
    expect(ready).toContain('cpus=2');
    expect(memTotal(ready ?? '')).toBeGreaterThan(before);
    expect((await h.record(vm.vmId))?.pending).toBeUndefined();
  });

  it('stop powers off through ACPI and ends QEMU; start boots it again', async () => {
    const pid = (await h.record(vm.vmId))?.pid ?? 0;
    const powerOffs = serialLines(serial, /GUEST-POWEROFF/).length;
    const readies = serialLines(serial, /GUEST-READY/).length;
    await h.p.stop(target(), h.ctx());
    expect(serialLines(serial, /GUEST-POWEROFF/)).toHaveLength(powerOffs + 1);
    expect(processesUsing(join(dirs.stateDir, vm.vmId))).toEqual([]);
    expect(await h.p.status(target(), h.ctx())).toMatchObject({ state: 'stopped' });

    expect(await h.p.start(target(), h.ctx())).toEqual({ running: { vcpu: 2, memoryMb: 384 } });
    expect((await waitForSerial(serial, /GUEST-READY/, readies + 1)).at(-1)).toContain(' cpus=2 ');
    expect((await h.record(vm.vmId))?.pid).not.toBe(pid);
    expect((await h.p.status(target(), h.ctx())).state).toBe('running');
  });

  it('release ends QEMU, removes the directory, and the VM is gone', async () => {
    await h.p.release(target(), h.ctx());
    expect((await h.p.status(target(), h.ctx())).state).toBe('gone');
    expect(existsSync(join(dirs.stateDir, vm.vmId))).toBe(false);
    expect(processesUsing(dirs.root)).toEqual([]);
    await h.p.release(target(), h.ctx()); // idempotent
  });
});
