// VMs outlive their server: a process that allocated a VM is killed with -9, the VM keeps
// running, and a new provisioner instance re-attaches through `watch`, finishes a detach whose
// event it missed, finishes pending detaches when their event comes, notices a QEMU that dies,
// and releases the VM. Under CI=true a missing QEMU or guest fails it; elsewhere it is skipped.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { conformanceContext } from '@slipway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient, qemuProvisioner } from '../src/index.js';
import type { VmRecord } from '../src/vm/vm-record.js';
import { fileProvisionerStore } from './support/file-store.js';
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
import { type Harness, startHarness } from './support/vm-harness.js';

const missing = vmTestsMissingReason();
if (missing && !mustRunVmTests) console.warn(`Skipping the QEMU re-attach tests: ${missing}`);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/allocate-and-hang.ts', import.meta.url));

describe.skipIf(missing !== undefined && !mustRunVmTests)(
  'VMs across provisioner restarts',
  { timeout: 90_000 },
  () => {
    const dirs = vmTestDirs();
    const storePath = join(dirs.root, 'store.json');
    const store = fileProvisionerStore(storePath);
    const config = testConfig(dirs);
    const resourceId = randomUUID();
    const vmId = `vm-${resourceId}`;
    const target = { resourceId, externalId: vmId };
    const serial = serialOf(dirs.stateDir, vmId);
    const harnesses: Harness[] = [];
    const harness = async (overrides: Parameters<typeof testConfig>[1] = {}) => {
      const h = await startHarness(testConfig(dirs, overrides), store);
      harnesses.push(h);
      return h;
    };
    const record = async () => (await store.get<VmRecord>(`vm/${vmId}`))?.value;

    beforeAll(() => {
      if (missing) throw new Error(`CI=true and the VM tests cannot run: ${missing}`);
    });

    afterAll(async () => {
      for (const h of harnesses) await h.close();
      const left = processesUsing(dirs.root);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      const vms = existsSync(dirs.stateDir) ? readdirSync(dirs.stateDir) : [];
      rmSync(dirs.root, { recursive: true, force: true });
      expect(left, 'QEMU processes left').toEqual([]);
      expect(vms, 'VM directories left').toEqual([]);
    });

    it('a VM keeps running when the process that started it is killed with -9', async () => {
      const configPath = join(dirs.root, 'config.json');
      writeFileSync(configPath, JSON.stringify(config));
      const server = spawn(
        process.execPath,
        ['--conditions=@slipway/source', '--import', 'tsx', fixture, configPath, storePath, resourceId],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => server.once('exit', resolve));
      const first = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: server.stdout });
        rl.once('line', resolve);
        server.once('exit', (code) => reject(new Error(`the stand-in server exited ${code} before allocating`)));
      });
      expect(JSON.parse(first)).toMatchObject({ resourceId, externalId: vmId, state: 'running' });
      await waitForSerial(serial, /GUEST-READY/);

      server.kill('SIGKILL');
      await exited;
      const vm = await record();
      expect(vm?.state).toBe('running');
      expect(processesUsing(join(dirs.stateDir, vmId))).toEqual([vm?.pid]);
    });

    it('a new instance re-attaches through watch, reports the VM running, and can drive it', async () => {
      const h = await harness();
      expect(h.reports).toContainEqual({ resourceId, report: { state: 'running' } });
      expect((await h.p.status(target, h.ctx())).state).toBe('running');
      await h.p.reset(target, 'hard', h.ctx());
      await waitForSerial(serial, /GUEST-READY/, 2);
      await h.p.attach(target, { type: 'disk', id: 'd1', options: { sizeGb: 1 } }, h.ctx());
      await waitForDevices(serial, /blk=vda,vdb,/);
      await h.close();
    });

    it('finishes a detach whose DEVICE_DELETED came while no provisioner listened', async () => {
      // What a server that died right after device_del leaves: the marker, and QEMU finishing alone.
      const vm = await record();
      if (!vm) throw new Error('no record');
      await store.put(`vm/${vmId}`, { ...vm, devices: vm.devices.map((d) => ({ ...d, state: 'detaching' })) });
      const raw = new QmpClient({ socketPath: join(vm.dir, 'qmp.sock'), reconnect: false });
      await raw.connect();
      const since = raw.marker();
      await raw.execute('device_del', { id: 'dev-d1' });
      await raw.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'dev-d1', { since });
      await raw.close();
      await waitForDevices(serial, /blk=vda, /);

      const h = await harness();
      expect(h.reports).toContainEqual({ resourceId, report: { deviceDetached: 'd1' } });
      expect((await record())?.devices).toEqual([]);
      expect(existsSync(join(vm.dir, 'disk-d1.qcow2'))).toBe(false);
      await h.close(); // QEMU serves one QMP client: the next instance needs the socket
    });

    it('answers a detach the guest has not acknowledged yet as pending, and finishes it on the event', async () => {
      const h = await harness({ timeouts: { detachMs: 0, releaseShutdownMs: 1000 } });
      await h.p.attach(target, { type: 'nic', id: 'n1' }, h.ctx());
      await waitForDevices(serial, /net=eth0,eth1,lo,/);
      const from = h.reports.length;
      expect(await h.p.detach(target, 'n1', h.ctx())).toEqual({ state: 'pending' });
      expect((await record())?.devices.map((d) => d.state)).toEqual(['detaching']);
      await h.waitForReport(resourceId, (r) => r.deviceDetached === 'n1', from);
      expect((await record())?.devices).toEqual([]);
      await waitForDevices(serial, /net=eth0,lo,/);
    });

    it('reports a QEMU that dies as stopped, and start boots it again', async () => {
      const h = harnesses.at(-1) as Harness;
      const pid = (await record())?.pid ?? 0;
      const from = h.reports.length;
      process.kill(pid, 'SIGKILL');
      const report = await h.waitForReport(resourceId, (r) => r.event?.action === 'qemu.exited', from);
      expect(report).toMatchObject({
        state: 'stopped',
        message: expect.stringContaining(`QEMU process ${pid} exited`),
      });
      expect(await h.p.status(target, h.ctx())).toMatchObject({ state: 'stopped' });
      const readies = serialLines(serial, /GUEST-READY/).length;
      expect(await h.p.start(target, h.ctx())).toEqual({ running: { vcpu: 1, memoryMb: 256 } });
      await waitForSerial(serial, /GUEST-READY/, readies + 1);
    });

    it('another host answers status from the record and refuses to touch the VM', async () => {
      const other = qemuProvisioner(testConfig(dirs, { host: { name: 'other-host', capacity: config.host.capacity } }));
      const ctx = conformanceContext(undefined, { store });
      expect(await other.status(target, ctx)).toMatchObject({
        state: 'running',
        message: expect.stringContaining('on host test-host'),
      });
      const refused = { code: 'INVALID_STATE', details: { host: 'test-host' } };
      await expect(other.stop(target, ctx)).rejects.toMatchObject(refused);
      await expect(other.release(target, ctx)).rejects.toMatchObject(refused);
      expect(await other.inventory(ctx)).toEqual([]);
      expect((await record())?.state).toBe('running');
    });

    it('the new instance releases the VM: no process, no directory, status gone', async () => {
      const h = harnesses.at(-1) as Harness;
      await h.p.release(target, h.ctx());
      expect((await h.p.status(target, h.ctx())).state).toBe('gone');
      expect(processesUsing(dirs.root)).toEqual([]);
      expect(existsSync(join(dirs.stateDir, vmId))).toBe(false);
    });
  },
);
