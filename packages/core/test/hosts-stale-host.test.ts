/**
 * A host that goes silent for good (PGlite): the credit hold of a PROVISIONING resource on it
 * is released (FAILED, cleanup pinned to the host) once it has been silent for a hold lease;
 * an allocation that completes after that is cleaned up when the host returns; a resource
 * that turns RUNNING after its host went stale becomes UNKNOWN; a replica that does not hold
 * a host restores nothing of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, restoreHostResources, type Slipway, silentLogger } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 1 };
const HOLD_TTL = 15 * 60_000;

describe('a host that goes silent for good', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  let a: Slipway;
  let b: Slipway;
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  afterEach(async () => {
    await a.close();
    await b.close();
    await storage.close();
    calls.length = 0;
    machines.clear();
  });

  /** Replicas serving h1 and h2, registered but not started; h2's allocations wait for `h2Gate`. */
  async function setup(h2Gate?: () => Promise<void>) {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const replica = (name: string, beforeReturn?: () => Promise<void>) =>
      createSlipway({
        database: storage,
        provisioners: [boxProvisioner({ name, calls, machines, beforeReturn })],
        clock,
        rateLimits: {},
        policy: { wait: false, holdTtlMs: HOLD_TTL },
        hosts: { heartbeatMs: 1_000, staleAfterMs: 10_000 },
      });
    [a, b] = [await replica('h1'), await replica('h2', h2Gate)];
    await a.hosts.register();
    await b.hosts.register();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
  }

  const holdOf = (resourceId: string) =>
    storage.db
      .selectFrom('reservations')
      .select('state')
      .where('resource_id', '=', resourceId)
      .executeTakeFirstOrThrow()
      .then((r) => r.state);

  /** Time passes; only h1 heartbeats, and h1's replica sweeps. */
  async function h1Alone(ms: number, times = 1) {
    for (let i = 0; i < times; i += 1) {
      clock.advance(ms);
      await a.hosts.heartbeat();
      await a.sweep();
    }
  }

  it('releases the hold of a PROVISIONING resource whose host never comes back', async () => {
    await setup();
    const wallet = await a.ledger.wallet(storage.db, 'alice');
    const r = await a.resources.create(alice, { name: 'doomed', provisioner: 'box', spec: SPEC, host: 'h2' });
    // h2's replica dies before running the allocate job. A hold lease is not enough to give up...
    await h1Alone(HOLD_TTL / 2, 2);
    expect(await holdOf(r.id)).toBe('pending');
    // ...past it, the hold is released and the resource FAILED, with the reason.
    await h1Alone(60_000);
    expect(await holdOf(r.id)).toBe('expired'); // released, back to the wallet
    expect(await a.resources.get(alice, r.id)).toMatchObject({
      status: 'FAILED',
      error: 'host h2 stopped heartbeating',
    });
    expect(await a.ledger.wallet(storage.db, 'alice')).toEqual(wallet);
    // Released by hand it is gone at once (nothing was built).
    expect((await a.resources.release(admin, r.id, { wait: false })).status).toBe('RELEASED');
    const event = await storage.db
      .selectFrom('events')
      .select('data')
      .where('resource_id', '=', r.id)
      .where('action', '=', 'resource.hold_expired')
      .executeTakeFirstOrThrow();
    expect(event.data).toMatchObject({ host: 'h2', reason: 'host_silent' });
    // The cleanup waits for h2, and so does the allocate job (which will find it settled).
    const jobs = await storage.db
      .selectFrom('jobs')
      .select(['kind', 'host'])
      .where('state', '=', 'queued')
      .orderBy('kind')
      .execute();
    expect(jobs).toEqual([
      { kind: 'resource.allocate', host: 'h2' },
      { kind: 'resource.cleanup', host: 'h2' },
    ]);
    expect(calls).toEqual([]);
  });

  it('cleans up an allocation that completes after it was given up, once the host returns', async () => {
    let built!: () => void;
    const inAllocate = new Promise<void>((resolve) => (built = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    await setup(() => {
      built();
      return finishing;
    });
    const r = await a.resources.create(alice, { name: 'late', provisioner: 'box', spec: SPEC, host: 'h2' });
    const running = b.runJobs(); // h2 builds the machine, then hangs (and stops heartbeating)
    await inAllocate;
    await h1Alone(HOLD_TTL + 60_000);
    expect((await a.resources.get(alice, r.id)).status).toBe('FAILED');
    expect(await holdOf(r.id)).toBe('expired'); // released, back to the wallet

    finish(); // the allocation returns late: no charge, the resource stays FAILED
    await running;
    expect((await a.resources.get(alice, r.id)).status).toBe('FAILED');
    expect(await holdOf(r.id)).toBe('expired'); // released, back to the wallet
    expect(machines.get('h2')?.has(r.id)).toBe(true);

    await b.hosts.heartbeat(); // h2 is back (claimed again): its cleanups run there
    await b.runJobs();
    expect(machines.get('h2')?.has(r.id)).toBe(false);
    expect(calls.filter((c) => c.resourceId === r.id).map((c) => [c.op, c.host])).toContainEqual(['release', 'h2']);
    expect((await a.ledger.wallet(storage.db, 'alice')).available).toBe(10_000);
  });

  it('marks a resource UNKNOWN when it becomes RUNNING on an already-stale host', async () => {
    let built!: () => void;
    const inAllocate = new Promise<void>((resolve) => (built = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    await setup(() => {
      built();
      return finishing;
    });
    const r = await a.resources.create(alice, { name: 'late', provisioner: 'box', spec: SPEC, host: 'h2' });
    const running = b.runJobs(); // h2's replica is allocating, and stops heartbeating
    await inAllocate;
    clock.advance(10_001);
    await a.hosts.heartbeat();
    expect((await a.sweep()).staleHosts).toBe(1); // h2 stale; r is PROVISIONING, kept
    finish(); // the allocation commits after that, and h2 is never heard of again
    await running;
    expect((await a.resources.get(alice, r.id)).status).toBe('RUNNING');
    await h1Alone(60_000);
    expect((await a.resources.get(alice, r.id)).status).toBe('UNKNOWN');
    const changed = await storage.db
      .selectFrom('events')
      .select('data')
      .where('resource_id', '=', r.id)
      .where('action', '=', 'resource.status_changed')
      .execute();
    expect(changed.map((e) => e.data)).toEqual([{ from: 'RUNNING', to: 'UNKNOWN', host: 'h2', reason: 'host_stale' }]);
  });

  it('restores nothing of a host whose row this replica does not hold up', async () => {
    await setup();
    const r = await a.resources.create(alice, { name: 'r', provisioner: 'box', spec: SPEC, host: 'h2' });
    expect(await b.runJobs()).toBe(1);
    clock.advance(10_001);
    await a.hosts.heartbeat();
    await a.sweep(); // h2 stale, r UNKNOWN
    expect((await a.resources.get(alice, r.id)).status).toBe('UNKNOWN');
    const deps = { ...b, logger: silentLogger, replicaId: b.jobs.workerId, clock, db: storage.db };
    expect(await restoreHostResources(deps, 'h2')).toBe(0); // still stale: not held up by b
    expect((await a.resources.get(alice, r.id)).status).toBe('UNKNOWN');
    await b.hosts.heartbeat(); // claimed again: now it restores (in the background)
    await b.hosts.restore('h2');
    expect((await a.resources.get(alice, r.id)).status).toBe('RUNNING');
  });
});
