/**
 * The orphan reaper and host-placed provisioners, on both engines: each host's inventory is
 * swept by its own replica (the job is pinned there), and only that host's resources are
 * judged by it, so a provisioner that answers `gone` for another host's machine never marks
 * that machine's resource GONE.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Provisioner, Slipway } from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';
import { newCloud } from './support/inventory-provisioner.js';
import { admin, alice, eventsNamed, GRACE, INTERVAL, reaperSlipway } from './support/reaper-slipway.js';

const engines = await testEngines();
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 1 };
const box = (name: string, host: string) => ({ name, provisioner: 'box', spec: SPEC, host });

describe.each(engines)('orphan reaper: host-placed provisioners on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  const replicas: Slipway[] = [];
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  afterEach(async () => {
    for (const s of replicas.splice(0)) await s.close();
    await storage.close();
    calls.length = 0;
    machines.clear();
  });

  /** The box of host `name`, listing the machines of its own host only. */
  const boxWithInventory = (name: string): Provisioner => ({
    ...boxProvisioner({ name, calls, machines }),
    inventory: async () =>
      [...(machines.get(name) ?? [])].map((resourceId) => ({ externalId: `${name}/${resourceId}`, resourceId })),
  });

  async function replica(host: string): Promise<Slipway> {
    const s = await reaperSlipway(storage, clock, newCloud(), {
      provisioners: [boxWithInventory(host)],
      hosts: { heartbeatMs: 50, staleAfterMs: 7 * 86_400_000 },
    });
    replicas.push(s);
    await s.hosts.start(); // registers the host; jobs are run by hand
    return s;
  }

  it('sweeps each host on its own replica and judges only that host’s resources', async () => {
    storage = await createTestStorage(engine);
    clock = manualClock();
    const [a, b] = [await replica('h1'), await replica('h2')];
    await a.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    const r1 = await a.resources.create(alice, box('one', 'h1'));
    const r2 = await b.resources.create(alice, box('two', 'h2'));
    expect([r1.status, r2.status]).toEqual(['RUNNING', 'RUNNING']);
    machines.get('h2')?.delete(r2.id); // r2's machine vanished on h2
    const stray = randomUUID();
    machines.get('h1')?.add(stray); // and h1 has one nobody owns
    clock.advance(1_000);

    expect(await a.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await b.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await a.runJobs()).toBe(1); // h1's sweep only: h2's is pinned to b
    expect((await a.resources.get(alice, r2.id)).status).toBe('RUNNING');
    expect(await b.runJobs()).toBe(1);
    expect((await a.resources.get(alice, r2.id)).status).toBe('GONE');
    expect((await a.resources.get(alice, r1.id)).status).toBe('RUNNING');
    expect(calls.filter((c) => c.op === 'status')).toEqual([{ op: 'status', resourceId: r2.id, host: 'h2' }]);
    expect(
      (await a.reaper.lastSweeps(admin)).map((s) => [s.provisioner, s.host, s.listed, s.orphansSeen, s.markedGone]),
    ).toEqual([
      ['box', 'h1', 2, 1, 0],
      ['box', 'h2', 0, 0, 1],
    ]);

    clock.advance(GRACE + INTERVAL);
    await Promise.all([a.sweep(), b.sweep()]);
    await Promise.all([a.runJobs(), b.runJobs()]);
    expect(calls.filter((c) => c.op === 'release')).toEqual([{ op: 'release', resourceId: stray, host: 'h1' }]);
    expect([...(machines.get('h1') ?? [])]).toEqual([r1.id]);
    const [released] = await eventsNamed(a, 'provisioner.orphan_released');
    expect(released?.data).toMatchObject({ provisioner: 'box', host: 'h1', externalId: `h1/${stray}` });
  });
});
