// The QEMU provisioner end to end: a real `slipway serve` on PostgreSQL with SLIPWAY_QEMU_CONFIG,
// one VM booting the test guest driven only through GraphQL, each step checked in the guest's
// serial output; then kill -9 of the server, a new server re-attaches and releases the VM.
// Under CI=true a missing QEMU, test guest or PostgreSQL fails it; elsewhere it is skipped.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createScratchDatabase, postgresReachable, type ScratchDatabase } from '@slipway/core/testing/databases';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mustRunVmTests,
  processesUsing,
  serialLines,
  vmTestDirs,
  vmTestsMissingReason,
  waitForDevices,
  waitForSerial,
} from '../../packages/provisioner-qemu/test/support/test-guest.js';
import {
  QemuApi,
  type ResourceView,
  restartQemuServer,
  startQemuServer,
  tokenFor,
  writeQemuConfig,
} from '../support/qemu-api.js';
import { eventually, type ServerProcess } from '../support/server-process.js';

const missing =
  vmTestsMissingReason() ??
  ((await postgresReachable()) ? undefined : 'PostgreSQL is not reachable (SLIPWAY_TEST_PG_URL)');
if (missing && !mustRunVmTests) console.warn(`Skipping the QEMU GraphQL tests: ${missing}`);

const SPEC = { vcpu: 1, memoryMb: 256, diskGb: 1 };
const RUNNING_ACTIONS = ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'RESIZE', 'ATTACH_DEVICE', 'RELEASE'];
const memTotal = (line: string | undefined) => Number(/MemTotal: (\d+) kB/.exec(line ?? '')?.[1]);

describe.skipIf(missing !== undefined && !mustRunVmTests)(
  'QEMU VMs through the GraphQL API',
  { timeout: 90_000 },
  () => {
    let dirs: ReturnType<typeof vmTestDirs>; // made in beforeAll: collecting a skipped suite needs no qemu-img
    let database: ScratchDatabase;
    let server: ServerProcess;
    let configPath: string;
    let alice: QemuApi;
    let mallory: QemuApi;
    let vm: ResourceView;
    let vmDir: string;
    let serial: string;
    const count = (pattern: RegExp) => serialLines(serial, pattern).length;
    const qemuAlive = () => processesUsing(vmDir).length > 0;
    const pidOfVm = () => Number(readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim());
    const act = (action: string, wait = true) => alice.mutate('resourceAction', { id: vm.id, action, wait });

    /** Until the operation in flight has ended; the resource then. */
    async function settled(): Promise<ResourceView> {
      await eventually(async () => (await alice.resource(vm.id)).operation === null, 'the operation to end', 60_000);
      return alice.resource(vm.id);
    }

    beforeAll(async () => {
      if (missing) throw new Error(`CI=true and the QEMU GraphQL tests cannot run: ${missing}`);
      database = await createScratchDatabase('slipway_qemu_api');
      dirs = vmTestDirs();
      configPath = writeQemuConfig(dirs);
      server = await startQemuServer({ databaseUrl: database.url, configPath });
      await new QemuApi(server.url, await tokenFor('ops', 'admin')).grant('alice', 10_000);
      alice = new QemuApi(server.url, await tokenFor('alice'));
      mallory = new QemuApi(server.url, await tokenFor('mallory'));
    }, 90_000);

    afterAll(async () => {
      await server?.stop();
      const left = dirs ? processesUsing(dirs.root) : [];
      for (const pid of left) process.kill(pid, 'SIGKILL'); // a failed test must not leave a VM burning CPU
      const vms = dirs && existsSync(dirs.stateDir) ? readdirSync(dirs.stateDir) : [];
      if (dirs) rmSync(dirs.root, { recursive: true, force: true });
      await database?.drop();
      expect(left, 'QEMU processes left').toEqual([]);
      expect(vms, 'VM directories left').toEqual([]);
    }, 60_000);

    it('createResource boots the guest: RUNNING with SSH forwarded, GUEST-READY on serial', async () => {
      const before = await alice.wallet();
      vm = await alice.ok('createResource', {
        input: { name: 'guest', provisioner: 'qemu', spec: SPEC, options: { image: 'tiny' } },
      });
      expect(vm).toMatchObject({ status: 'RUNNING', ip: '127.0.0.1', host: 'test-host', devices: [] });
      expect(vm.sshPort).toBeGreaterThan(0);
      expect(vm.allowedActions.toSorted()).toEqual(RUNNING_ACTIONS.toSorted());
      expect((await alice.wallet()).balance).toBe(before.balance - vm.cost);
      vmDir = join(dirs.stateDir, vm.externalId ?? '');
      serial = join(vmDir, 'serial.log');
      const [ready] = await waitForSerial(serial, /GUEST-READY/);
      expect(ready).toContain('cpus=1');
      expect(qemuAlive()).toBe(true);
    });

    it("another user's id is NOT_FOUND for reads and every operation", async () => {
      expect(await mallory.resourceErrorCode(vm.id)).toBe('NOT_FOUND');
      const attempts = [
        mallory.mutate('resourceAction', { id: vm.id, action: 'RESET_HARD' }),
        mallory.mutate('resizeResource', { id: vm.id, input: { vcpu: 2 } }),
        mallory.mutate('attachDevice', { id: vm.id, input: { type: 'NIC' } }),
        mallory.mutate('releaseResource', { id: vm.id }),
      ];
      for (const answer of await Promise.all(attempts)) expect(answer.error?.code).toBe('NOT_FOUND');
      expect(count(/GUEST-READY/)).toBe(1);
    });

    it('an operation the demo pool lacks is NOT_SUPPORTED', async () => {
      const machine = await alice.ok('createResource', {
        input: { name: 'pooled', provisioner: 'pool', spec: { vcpu: 2, memoryMb: 4096, diskGb: 40 } },
      });
      expect(machine.allowedActions).toEqual(['RELEASE']);
      const answer = await alice.mutate('resourceAction', { id: machine.id, action: 'RESET_HARD' });
      expect(answer.error).toMatchObject({
        __typename: 'NotSupportedError',
        code: 'NOT_SUPPORTED',
        capability: 'reset',
      });
      expect((await alice.ok('releaseResource', { id: machine.id })).status).toBe('RELEASED');
    });

    it('RESET_HARD reboots the guest', async () => {
      const readies = count(/GUEST-READY/);
      const r = await act('RESET_HARD');
      expect(r.data).toMatchObject({ status: 'RUNNING', operation: null, lastOperation: { succeeded: true } });
      await waitForSerial(serial, /GUEST-READY/, readies + 1);
    });

    it('RESET_SOFT goes through ACPI: the guest powers off, then boots again', async () => {
      const readies = count(/GUEST-READY/);
      const r = await act('RESET_SOFT');
      expect(r.data).toMatchObject({ status: 'RUNNING', lastOperation: { action: 'RESET_SOFT', succeeded: true } });
      expect(count(/GUEST-POWEROFF/)).toBe(1);
      await waitForSerial(serial, /GUEST-READY/, readies + 1);
      expect((await alice.resource(vm.id)).status).toBe('RUNNING');
    });

    it('a disk and a NIC attached appear in the guest, and detach with DEVICE_DELETED', async () => {
      const disk = await alice.ok('attachDevice', { id: vm.id, input: { type: 'DISK', id: 'data1', sizeGb: 1 } });
      expect(disk.devices).toEqual([{ id: 'data1', type: 'DISK', state: 'ATTACHED', sizeGb: 1 }]);
      await waitForDevices(serial, /blk=vda,vdb, net=eth0,lo,/);
      const nic = await alice.ok('attachDevice', { id: vm.id, input: { type: 'NIC', id: 'lan1' } });
      expect(nic.devices.map((d) => [d.id, d.state])).toEqual([
        ['data1', 'ATTACHED'],
        ['lan1', 'ATTACHED'],
      ]);
      expect(nic.allowedActions).toContain('DETACH_DEVICE');
      await waitForDevices(serial, /blk=vda,vdb, net=eth0,eth1,lo,/);
      expect(existsSync(join(vmDir, 'disk-data1.qcow2'))).toBe(true);

      // Answered `detached` (not left DETACHING) only once QEMU sent the device's DEVICE_DELETED.
      expect((await alice.ok('detachDevice', { id: vm.id, deviceId: 'data1' })).devices.map((d) => d.id)).toEqual([
        'lan1',
      ]);
      expect(existsSync(join(vmDir, 'disk-data1.qcow2'))).toBe(false);
      const detached = await alice.ok('detachDevice', { id: vm.id, deviceId: 'lan1' });
      expect(detached.devices).toEqual([]);
      expect(detached.allowedActions).not.toContain('DETACH_DEVICE');
      await waitForDevices(serial, /blk=vda, net=eth0,lo,/);
      const events = (await alice.events(vm.id)).map((e) => e.action);
      expect(events.filter((a) => a === 'resource.device_detached')).toHaveLength(2);
      expect(events).not.toContain('resource.device_detach_pending');
    });

    it('a resize holds the difference, RESTART boots with it and charges the hold; CONFLICT while in flight', async () => {
      const bigger = { vcpu: 2, memoryMb: 384 };
      const difference = (await alice.price({ ...bigger, diskGb: 1 })) - (await alice.price(SPEC));
      expect(difference).toBeGreaterThan(0);
      const before = await alice.wallet();
      const memBefore = memTotal(serialLines(serial, /GUEST-READY/).at(-1));

      const pending = await alice.ok('resizeResource', { id: vm.id, input: bigger });
      expect(pending).toMatchObject({ spec: { vcpu: 1, memoryMb: 256 }, pendingSpec: bigger });
      expect(pending.allowedActions).toContain('REVERT_RESIZE');
      expect(await alice.wallet()).toEqual({ balance: before.balance, held: before.held + difference });

      const readies = count(/GUEST-READY/);
      const restarting = await act('RESTART', false);
      expect(restarting.data?.operation).toEqual({ action: 'RESTART' });
      const second = await act('RESET_HARD');
      expect(second.error).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', operation: 'RESTART' });

      const after = await settled();
      expect(after).toMatchObject({
        status: 'RUNNING',
        spec: bigger,
        pendingSpec: null,
        cost: vm.cost + difference,
        lastOperation: { action: 'RESTART', succeeded: true },
      });
      expect(await alice.wallet()).toEqual({ balance: before.balance - difference, held: before.held });
      const ready = (await waitForSerial(serial, /GUEST-READY/, readies + 1)).at(-1);
      expect(ready).toContain('cpus=2');
      expect(memTotal(ready)).toBeGreaterThan(memBefore);
    });

    it('STOP goes through ACPI and ends QEMU; START boots it again', async () => {
      const powerOffs = count(/GUEST-POWEROFF/);
      const readies = count(/GUEST-READY/);
      const stopped = await act('STOP');
      expect(stopped.data).toMatchObject({ status: 'STOPPED', lastOperation: { action: 'STOP', succeeded: true } });
      expect(stopped.data?.allowedActions).toContain('START');
      expect(stopped.data?.allowedActions).not.toContain('STOP');
      expect(count(/GUEST-POWEROFF/)).toBe(powerOffs + 1);
      expect(qemuAlive()).toBe(false);

      expect((await act('START')).data).toMatchObject({ status: 'RUNNING', spec: { vcpu: 2 } });
      const lines = await waitForSerial(serial, /GUEST-READY/, readies + 1);
      expect(lines.at(-1)).toContain('cpus=2');
      expect(qemuAlive()).toBe(true);
    });

    it('kill -9 of the server leaves the VM running; a new server re-attaches, operates and releases it', async () => {
      const pid = pidOfVm();
      server.proc.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      expect(processesUsing(vmDir)).toEqual([pid]);

      server = await restartQemuServer({ databaseUrl: database.url, configPath });
      alice.url = server.url;
      await eventually(async () => (await alice.resource(vm.id)).status === 'RUNNING', 'RUNNING after the restart');
      expect(processesUsing(vmDir)).toEqual([pid]); // re-attached, not respawned
      const readies = count(/GUEST-READY/);
      expect((await act('RESET_HARD')).data).toMatchObject({ status: 'RUNNING', lastOperation: { succeeded: true } });
      await waitForSerial(serial, /GUEST-READY/, readies + 1);
      expect(processesUsing(vmDir)).toEqual([pid]); // the same QEMU, driven by the new server

      expect((await alice.ok('releaseResource', { id: vm.id })).status).toBe('RELEASED');
      expect(processesUsing(dirs.root)).toEqual([]);
      expect(existsSync(vmDir)).toBe(false);
    });
  },
);
