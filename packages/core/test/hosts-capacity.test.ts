/**
 * What occupies a host (PGlite): besides live resources, a machine that failed after it ran
 * (until it is released) and a failed allocation whose cleanup has not run (a half-built
 * machine may be there). Both keep their room until then; then it is free again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, type Slipway } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const HALF = { vcpu: 2, memoryMb: 2048, diskGb: 10 }; // half a box host
const box = (name: string) => ({ name, provisioner: 'box', spec: HALF });

describe('what occupies a host', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  let s: Slipway;
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  afterEach(async () => {
    await s.close();
    await storage.close();
    calls.length = 0;
    machines.clear();
  });

  /** One replica serving h1 (room for two HALF); allocations of `failing` names fail half-built. */
  async function setup(failing: string[] = []) {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    s = await createSlipway({
      database: storage,
      provisioners: [boxProvisioner({ name: 'h1', calls, machines, failing: new Set(failing) })],
      clock,
      rateLimits: {},
      policy: { wait: false },
    });
    await s.hosts.register();
    await s.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
  }

  const used = async () => (await s.hosts.list(admin))[0]?.used;

  it('a machine that failed after it ran keeps its room until it is released', async () => {
    await setup();
    const [r1] = [await s.resources.create(alice, box('r1')), await s.resources.create(alice, box('r2'))];
    await s.runJobs();
    machines.get('h1')?.delete(r1.id); // the machine dies at the provider
    expect((await s.resources.refresh(alice, r1.id)).status).toBe('FAILED');
    expect(await used()).toMatchObject({ vcpu: 4, resources: 2 });
    await expect(s.resources.create(alice, box('r3'))).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED' });
    await s.resources.release(alice, r1.id);
    await s.runJobs();
    expect((await s.resources.get(alice, r1.id)).status).toBe('RELEASED');
    expect(await used()).toMatchObject({ vcpu: 2, resources: 1 });
    expect((await s.resources.create(alice, box('r3'))).host).toBe('h1');
  });

  it('a failed allocation keeps its room until its cleanup has run', async () => {
    await setup(['bad']);
    await s.resources.create(alice, box('ok'));
    await s.runJobs();
    const bad = await s.resources.create(alice, box('bad'));
    const allocate = await storage.db
      .selectFrom('jobs')
      .select('id')
      .where('key', '=', `allocate:${bad.id}`)
      .executeTakeFirstOrThrow();
    // Just the allocation (not its cleanup): half a machine is left on h1, the resource FAILED.
    expect(await s.jobs.runNow(allocate.id)).toBe(true);
    expect((await s.resources.get(alice, bad.id)).status).toBe('FAILED');
    expect(machines.get('h1')?.has(bad.id)).toBe(true);
    expect(await used()).toMatchObject({ vcpu: 4, resources: 2 });
    await expect(s.resources.create(alice, box('r3'))).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED' });
    await s.runJobs(); // the cleanup removes the half-built machine
    expect(machines.get('h1')?.has(bad.id)).toBe(false);
    expect(await used()).toMatchObject({ vcpu: 2, resources: 1 });
    expect((await s.resources.create(alice, box('r3'))).host).toBe('h1');
  });
});
