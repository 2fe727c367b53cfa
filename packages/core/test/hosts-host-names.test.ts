/**
 * One host name, one server (PGlite): after another replica takes a host name over, the old
 * replica runs none of that host's jobs, even before its next heartbeat notices; and one
 * replica whose two host-placed provisioners name the same host refuses to start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, type Slipway } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 1 };

describe('host names', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  const replicas: Slipway[] = [];
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.close();
    await storage.close();
    calls.length = 0;
    machines.clear();
  });

  async function replica(...hosts: { name: string; provisioner?: string }[]): Promise<Slipway> {
    const s = await createSlipway({
      database: storage,
      provisioners: hosts.map((h) => boxProvisioner({ ...h, calls, machines })),
      clock,
      rateLimits: {},
      policy: { wait: false },
      hosts: { heartbeatMs: 1_000, staleAfterMs: 10_000 },
    });
    replicas.push(s);
    return s;
  }

  it('leaves a taken-over host’s jobs to its new replica, before the old one’s heartbeat notices', async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const old = await replica({ name: 'h1' });
    await old.hosts.register();
    clock.advance(10_001); // the old replica paused; its heartbeat is stale
    const successor = await replica({ name: 'h1' });
    await successor.hosts.register(); // takes h1 over
    await successor.accounts.grant(admin, { accountId: 'alice', amount: 1_000 });
    const r = await successor.resources.create(alice, { name: 'r', provisioner: 'box', spec: SPEC });
    expect(r.host).toBe('h1');
    // The old replica wakes up still thinking it serves h1 (no heartbeat yet): it takes none of h1's jobs.
    expect(await old.runJobs()).toBe(0);
    expect(await successor.runJobs()).toBe(1);
    expect(calls).toEqual([{ op: 'allocate', resourceId: r.id, host: 'h1' }]);
    expect((await successor.resources.get(alice, r.id)).status).toBe('RUNNING');
  });

  it('refuses to start a replica whose two host-placed provisioners name one host', async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const s = await replica({ name: 'h1' }, { name: 'h1', provisioner: 'box-large' });
    await expect(s.start()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'host', host: 'h1', provisioners: ['box', 'box-large'] },
      message: expect.stringContaining('both name host h1'),
    });
    expect(await storage.db.selectFrom('hosts').select('name').execute()).toEqual([]);
  });
});
