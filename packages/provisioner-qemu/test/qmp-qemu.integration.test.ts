import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient } from '../src/qmp/qmp-client.js';
import { QMP_CONNECTED, QMP_DISCONNECTED } from '../src/qmp/qmp-client-options.js';
import { QmpError } from '../src/qmp/qmp-errors.js';
import { memoryLogger } from './support/memory-logger.js';
import { type QemuUnderTest, qemuMissingReason, startQemu } from './support/qemu-process.js';

// Real qemu-system-x86_64 (TCG, q35, no guest). Under CI=true a missing QEMU fails the suite;
// elsewhere it is skipped with the reason. Install: scripts/ci-install-qemu.sh
const missing = qemuMissingReason();
const mustRun = process.env.CI === 'true';
if (missing && !mustRun) console.warn(`Skipping the QEMU integration tests: ${missing}`);

describe.skipIf(missing !== undefined && !mustRun)('QmpClient against real QEMU', () => {
  const vms: QemuUnderTest[] = [];
  const clients: QmpClient[] = [];

  beforeAll(() => {
    if (missing) throw new Error(`CI=true and QEMU is missing: ${missing}`);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(vms.splice(0).map((vm) => vm.stop()));
  });

  function vm(dir?: string): QemuUnderTest {
    const started = startQemu({ dir });
    vms.push(started);
    return started;
  }

  function clientFor(target: QemuUnderTest, reconnect = true) {
    const logger = memoryLogger();
    const client = new QmpClient({ socketPath: target.socketPath, logger, reconnect: reconnect && {} });
    clients.push(client);
    return { client, logger };
  }

  it('negotiates and drives prelaunch → cont → running → stop → paused', async () => {
    const { client, logger } = clientFor(vm());
    const greeting = await client.connect();
    expect(greeting.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(await client.queryStatus()).toEqual({ status: 'prelaunch', running: false });

    const beforeCont = client.marker();
    await client.execute('cont');
    await client.waitForEvent('RESUME', undefined, { since: beforeCont });
    expect(await client.queryStatus()).toEqual({ status: 'running', running: true });

    const beforeStop = client.marker();
    await client.execute('stop');
    await client.waitForEvent('STOP', undefined, { since: beforeStop });
    expect(await client.queryStatus()).toEqual({ status: 'paused', running: false });
    expect(logger.records.filter((r) => r.level === 'warn')).toEqual([]);
  });

  it('hotplugs a virtio disk on a root port, types the duplicate-id error, and catches both DEVICE_DELETED', async () => {
    const target = vm();
    const { client } = clientFor(target);
    await client.connect();
    const filename = await target.createDisk('disk1.qcow2');
    await client.execute('blockdev-add', { driver: 'file', 'node-name': 'f1', filename });
    await client.execute('blockdev-add', { driver: 'qcow2', 'node-name': 'd1', file: 'f1' });
    await client.execute('device_add', { driver: 'virtio-blk-pci', id: 'vd1', drive: 'd1', bus: 'rp1' });

    const duplicate = await client
      .execute('device_add', { driver: 'virtio-blk-pci', id: 'vd1', drive: 'd1', bus: 'rp2' })
      .catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(QmpError);
    expect(duplicate).toMatchObject({
      class: 'GenericError',
      command: 'device_add',
      desc: expect.stringContaining('Duplicate device ID'),
    });

    const since = client.marker();
    await client.execute('device_del', { id: 'vd1' });
    const deleted = await client.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'vd1', { since });
    expect(deleted.data.path).toBe('/machine/peripheral/vd1');
    const paths = client.eventsSince(since).filter((e) => e.event.event === 'DEVICE_DELETED');
    expect(paths.map((e) => e.event.data.path)).toEqual([
      '/machine/peripheral/vd1/virtio-backend',
      '/machine/peripheral/vd1',
    ]);
    await client.execute('blockdev-del', { 'node-name': 'd1' });
    await client.execute('blockdev-del', { 'node-name': 'f1' });
  });

  it('gives a second client its greeting only after the first one closes', async () => {
    const target = vm();
    const first = clientFor(target).client;
    const second = clientFor(target).client;
    await first.connect();
    let firstClosed = false;
    const secondReady = second.connect().then(() => firstClosed);
    await first.execute('query-status'); // the first client is served while the second waits
    expect(second.state).toBe('connecting');
    await first.close();
    firstClosed = true;
    expect(await secondReady).toBe(true);
    expect((await second.queryStatus()).status).toBe('prelaunch');
  });

  it('reports quit as SHUTDOWN and a synthetic disconnect, and QEMU exits 0', async () => {
    const target = vm();
    const { client } = clientFor(target, false);
    await client.connect();
    const since = client.marker();
    await client.execute('quit');
    const gone = await client.waitForEvent(QMP_DISCONNECTED, undefined, { since });
    expect(gone.data.sawShutdown).toBe(true);
    const shutdown = await client.waitForEvent('SHUTDOWN', undefined, { since });
    expect(shutdown.data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    expect(await target.exited).toBe(0);
  });

  it('reconnects when QEMU is restarted on the same socket path', async () => {
    const original = vm();
    const { client } = clientFor(original);
    await client.connect();
    await client.execute('cont');
    const since = client.marker();
    const reconnected = client.waitForEvent(QMP_CONNECTED, (e) => e.data.reconnect === true, {
      since,
      acrossDisconnect: true,
    });
    await original.kill();
    await client.waitForEvent(QMP_DISCONNECTED, undefined, { since });
    vm(original.dir); // a new QEMU, same directory and socket
    await reconnected;
    expect((await client.queryStatus()).status).toBe('prelaunch');
  });
});
