/**
 * Two replicas on one machine posing as two hosts (PostgreSQL, job loops running): each
 * resource's jobs run only on its host's replica; a stopped replica's host goes stale and its
 * resources UNKNOWN (not gone, credits unchanged) until it returns; a second replica cannot
 * pose as a live host.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Actor, createSlipway, type Slipway } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 1 }; // a quarter of a box host's vCPUs
const box = (name: string, host?: string) => ({ name, provisioner: 'box', spec: SPEC, ...(host ? { host } : {}) });
const STALE_AFTER = 10_000;

describe('two replicas posing as two hosts on PostgreSQL', () => {
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

  async function setup() {
    storage = await createTestStorage('postgres');
    clock = manualClock();
  }

  /** A replica serving host `name` (not started). */
  async function replica(name: string): Promise<Slipway> {
    const s = await createSlipway({
      database: storage,
      provisioners: [boxProvisioner({ name, calls, machines })],
      clock,
      rateLimits: {},
      policy: { waitMs: 20_000 },
      hosts: { heartbeatMs: 50, staleAfterMs: STALE_AFTER },
      jobs: { pollMs: 50 },
      sweepIntervalMs: 3_600_000, // swept by hand
    });
    replicas.push(s);
    return s;
  }

  const status = async (s: Slipway, id: string) => (await s.resources.get(admin, id)).status;
  const callsFor = (id: string) => calls.filter((c) => c.resourceId === id);

  it('runs every job of a resource on its host’s replica, whichever replica was asked', async () => {
    await setup();
    const [a, b] = [await replica('h1'), await replica('h2')];
    await a.start();
    await b.start();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });

    const made = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).resources.create(alice, box(`vm-${i}`))),
    );
    expect(made.map((r) => r.status)).toEqual(Array(8).fill('RUNNING'));
    expect(made.filter((r) => r.host === 'h1')).toHaveLength(4);
    expect(made.filter((r) => r.host === 'h2')).toHaveLength(4);
    await expect(a.resources.create(alice, box('ninth'))).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED' });

    // Released through the other host's replica half of the time.
    const released = await Promise.all(made.map((r, i) => (i % 3 === 0 ? a : b).resources.release(alice, r.id)));
    expect(released.map((r) => r.status)).toEqual(Array(8).fill('RELEASED'));
    for (const r of made) {
      expect(callsFor(r.id)).toEqual([
        { op: 'allocate', resourceId: r.id, host: r.host },
        { op: 'release', resourceId: r.id, host: r.host },
      ]);
    }
    const jobs = await storage.db
      .selectFrom('jobs')
      .innerJoin('resources', (j) =>
        j.onRef('resources.id', '=', (eb) => eb.cast(eb.ref('jobs.payload', '->>').key('resourceId'), 'uuid')),
      )
      .select(['jobs.host as jobHost', 'resources.host as resourceHost'])
      .execute();
    expect(jobs).toHaveLength(16);
    for (const j of jobs) expect(j.jobHost).toBe(j.resourceHost);
  });

  it('a stopped replica’s host goes stale: resources UNKNOWN, credits unchanged; they return with it', async () => {
    await setup();
    const [a, b] = [await replica('h1'), await replica('h2')];
    await a.start();
    await b.start();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
    const [r1, r2] = [
      await a.resources.create(alice, box('r1', 'h1')),
      await a.resources.create(alice, box('r2', 'h1')),
    ];
    const r3 = await b.resources.create(alice, box('r3', 'h2'));
    if (!r1 || !r2) throw new Error('not created');
    const wallet = await a.ledger.wallet(storage.db, 'alice');
    const entries = await storage.db.selectFrom('ledger_entries').select('id').execute();

    await a.close(); // its VMs live on (the machines map); nobody serves h1 now
    clock.advance(STALE_AFTER + 1);
    await b.hosts.heartbeat();
    expect((await b.sweep()).staleHosts).toBe(1);
    expect((await b.sweep()).staleHosts).toBe(0); // marked once
    expect([await status(b, r1.id), await status(b, r2.id), await status(b, r3.id)]).toEqual([
      'UNKNOWN',
      'UNKNOWN',
      'RUNNING',
    ]);
    expect(await b.ledger.wallet(storage.db, 'alice')).toEqual(wallet);
    expect(await storage.db.selectFrom('ledger_entries').select('id').execute()).toEqual(entries);
    const events = await storage.db
      .selectFrom('events')
      .select(['action', 'resource_id', 'data', 'type'])
      .where((eb) => eb.or([eb('action', '=', 'host.stale'), eb(eb.ref('data', '->>').key('to'), '=', 'UNKNOWN')]))
      .execute();
    expect(events.map((e) => [e.type, e.action, e.resource_id]).sort()).toEqual(
      [
        ['system', 'host.stale', null],
        ['vm', 'resource.status_changed', r1.id],
        ['vm', 'resource.status_changed', r2.id],
      ].sort(),
    );
    expect((await b.hosts.list(admin)).map((h) => [h.name, h.state])).toEqual([
      ['h1', 'STALE'],
      ['h2', 'UP'],
    ]);

    // Another replica neither asks h1's provisioner nor runs h1's jobs: a release waits for h1.
    const refreshed = await b.resources.refresh(alice, r1.id);
    expect(refreshed.status).toBe('UNKNOWN');
    const releasing = await b.resources.release(alice, r2.id, { wait: false });
    expect(releasing.status).toBe('RELEASING');
    const job = await storage.db
      .selectFrom('jobs')
      .select(['id', 'host', 'state'])
      .where('key', '=', `release:${r2.id}`)
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ host: 'h1', state: 'queued' });
    expect(await b.jobs.runNow(job.id)).toBe(false);
    expect(callsFor(r1.id).map((c) => c.op)).toEqual(['allocate']);

    const back = await replica('h1'); // a restart: a new replica id for the same host
    await back.start();
    await vi.waitFor(
      async () => {
        expect(await status(back, r1.id)).toBe('RUNNING');
        expect(await status(back, r2.id)).toBe('RELEASED');
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(callsFor(r1.id)).toEqual([
      { op: 'allocate', resourceId: r1.id, host: 'h1' },
      { op: 'status', resourceId: r1.id, host: 'h1' },
    ]);
    expect(callsFor(r2.id).map((c) => [c.op, c.host])).toEqual([
      ['allocate', 'h1'],
      ['release', 'h1'],
    ]);
    const restored = await storage.db
      .selectFrom('events')
      .select('data')
      .where('resource_id', '=', r1.id)
      .where((eb) => eb(eb.ref('data', '->>').key('reason'), '=', 'host_returned'))
      .executeTakeFirstOrThrow();
    expect(restored.data).toMatchObject({ from: 'UNKNOWN', to: 'RUNNING', host: 'h1' });
    expect((await back.hosts.list(admin)).find((h) => h.name === 'h1')).toMatchObject({
      state: 'UP',
      replicaId: back.jobs.workerId,
    });
  });

  it('refuses a second replica posing as a live host, and lets it in once the first stops', async () => {
    await setup();
    const first = await replica('h1');
    await first.start();
    const second = await replica('h1');
    await expect(second.start()).rejects.toMatchObject({ code: 'HOST_IN_USE', details: { host: 'h1' } });
    const [row] = await first.hosts.list(admin);
    expect(row).toMatchObject({ name: 'h1', state: 'UP', replicaId: first.jobs.workerId });
    await first.close();
    await second.start();
    expect((await second.hosts.list(admin))[0]).toMatchObject({ state: 'UP', replicaId: second.jobs.workerId });
  });
});
