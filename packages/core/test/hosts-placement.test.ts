/**
 * Placement on hosts (both engines): creates fill the hosts of a host-placed provisioner and
 * then fail with CAPACITY_EXHAUSTED with nothing written and no credit held; a requested host
 * is honoured or refused with a typed error; silent hosts get nothing; quotes say why not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';
import { BOX_CAPACITY, boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const HALF = { vcpu: 2, memoryMb: 2048, diskGb: 10 }; // half a box host
const box = (over: Record<string, unknown> = {}) => ({ name: 'vm', provisioner: 'box', spec: HALF, ...over });
interface Failure {
  code: string;
  message?: string;
  details?: Record<string, unknown>;
}
const failure = (p: Promise<unknown>) =>
  p.then(
    (): Failure => ({ code: 'resolved' }),
    (e: { code?: string; message?: string; details?: Record<string, unknown> }): Failure => ({
      code: e.code ?? String(e),
      message: e.message,
      details: e.details,
    }),
  );
const messageOf = (f: Failure) => f.message ?? '';

describe.each(engines)('host placement on %s', (engine) => {
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

  /** Two replicas of the same provisioner posing as hosts h1 and h2, registered but not started. */
  async function setup() {
    storage = await createTestStorage(engine);
    clock = manualClock();
    const replica = (name: string) =>
      createSlipway({
        database: storage,
        provisioners: [boxProvisioner({ name, calls, machines }), demoProvisioner()],
        clock,
        rateLimits: {},
        policy: { wait: false },
        hosts: { heartbeatMs: 1_000, staleAfterMs: 10_000 },
      });
    [a, b] = [await replica('h1'), await replica('h2')];
    await a.hosts.register();
    await b.hosts.register();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
  }

  const runAll = async () => {
    while ((await a.runJobs()) + (await b.runJobs()) > 0) {}
  };

  it('fills the hosts, then refuses with CAPACITY_EXHAUSTED: nothing written, no credit held', async () => {
    await setup();
    const made = [];
    for (let i = 0; i < 4; i += 1) made.push(await a.resources.create(alice, box({ name: `vm-${i}` })));
    expect(made.map((r) => r.host).sort()).toEqual(['h1', 'h1', 'h2', 'h2']);
    await runAll();
    for (const r of made) {
      expect((await a.resources.get(alice, r.id)).status).toBe('RUNNING');
      // Each allocation ran on the replica of the resource's host.
      expect(calls.filter((c) => c.resourceId === r.id)).toEqual([{ op: 'allocate', resourceId: r.id, host: r.host }]);
    }

    const walletBefore = await a.ledger.wallet(storage.db, 'alice');
    const rowsBefore = await storage.db.selectFrom('resources').select('id').execute();
    const eventsBefore = await storage.db.selectFrom('events').select('seq').execute();
    const refused = await failure(a.resources.create(alice, box({ name: 'one-too-many' })));
    expect(refused).toMatchObject({ code: 'CAPACITY_EXHAUSTED', details: { provisioner: 'box' } });
    expect(await a.ledger.wallet(storage.db, 'alice')).toEqual(walletBefore);
    expect(await storage.db.selectFrom('resources').select('id').execute()).toHaveLength(rowsBefore.length);
    expect(await storage.db.selectFrom('events').select('seq').execute()).toHaveLength(eventsBefore.length);
    expect(await storage.db.selectFrom('reservations').select('id').where('state', '=', 'pending').execute()).toEqual(
      [],
    );

    // A release frees its room: the next create lands where it was.
    const gone = made[0];
    if (!gone) throw new Error('no resource');
    await a.resources.release(alice, gone.id);
    await runAll();
    expect((await a.resources.get(alice, gone.id)).status).toBe('RELEASED');
    expect(calls.filter((c) => c.op === 'release')).toEqual([{ op: 'release', resourceId: gone.id, host: gone.host }]);
    expect((await a.resources.create(alice, box({ name: 'again' }))).host).toBe(gone.host);
  });

  it('places on a requested host, and refuses an unknown one or one without room', async () => {
    await setup();
    const onH2 = await a.resources.create(alice, box({ name: 'on-h2', host: 'h2' }));
    expect(onH2.host).toBe('h2');
    await a.resources.create(alice, box({ name: 'also-h2', host: 'h2' }));
    const full = await failure(a.resources.create(alice, box({ name: 'vm', host: 'h2' })));
    expect(full).toMatchObject({ code: 'CAPACITY_EXHAUSTED', details: { host: 'h2' } });
    // A user cannot tell an unknown host from a full one: same code, same message, no host list.
    const unknown = await failure(a.resources.create(alice, box({ name: 'vm', host: 'h9' })));
    expect(unknown).toMatchObject({ code: 'CAPACITY_EXHAUSTED', details: { provisioner: 'box', host: 'h9' } });
    expect(messageOf(unknown)).toBe(messageOf(full).replace('h2', 'h9'));
    // An admin learns it is unknown.
    expect(await failure(a.resources.create(admin, box({ name: 'nowhere', host: 'h9' })))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'host' },
    });
    expect(await failure(a.resources.create(alice, box({ name: 'bad', host: '-x' })))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'host' },
    });
    const demo = { name: 'd', provisioner: 'demo', spec: HALF, host: 'h1' };
    expect(await failure(a.resources.create(alice, demo))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'host' },
    });
    // Not host-placed: no host, any replica.
    const { host: _ignored, ...plain } = demo;
    expect((await a.resources.create(alice, plain)).host).toBeNull();
  });

  it('skips a silent host, and quotes say where a create would go or why it would not', async () => {
    await setup();
    expect(await a.resources.quote(alice, box())).toMatchObject({ admitted: true, reason: null, host: 'h1' });
    clock.advance(10_001);
    await b.hosts.heartbeat(); // h2 keeps beating; h1 is silent past staleAfterMs
    expect((await a.resources.quote(alice, box())).host).toBe('h2');
    const down = await failure(a.resources.create(alice, box({ name: 'x', host: 'h1' })));
    expect(down).toMatchObject({ code: 'CAPACITY_EXHAUSTED', details: { host: 'h1' } });
    expect(messageOf(down)).toBe('no room for 2 vCPU, 2048 MB, 10 GB on the requested host h1 of box');
    expect(await failure(a.resources.create(admin, box({ name: 'x', host: 'h1' })))).toMatchObject({
      code: 'CAPACITY_EXHAUSTED',
      message: 'host h1 is not up (no recent heartbeat)',
    });
    await a.resources.create(alice, box({ name: 'p1' }));
    await a.resources.create(alice, box({ name: 'p2' }));
    expect(await a.resources.quote(alice, box())).toMatchObject({
      admitted: false,
      reason: 'CAPACITY_EXHAUSTED',
      host: null,
    });
    expect(await a.resources.quote(alice, box({ spec: { ...HALF, vcpu: 0.5 } }))).toMatchObject({ admitted: false });
    expect(await a.resources.quote(alice, box({ host: 'h9' }))).toMatchObject({
      admitted: false,
      reason: 'CAPACITY_EXHAUSTED',
    });
    await expect(a.resources.quote(admin, box({ host: 'h9' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'host' },
    });
    // No host count or names for users when every host is full.
    const everyFull = await failure(a.resources.create(alice, box({ name: 'p3' })));
    expect(messageOf(everyFull)).toBe('no room for 2 vCPU, 2048 MB, 10 GB on any host of box');
    expect(messageOf(await failure(a.resources.create(admin, box({ name: 'p3' }))))).toContain('any of 1 live host(s)');
    const hosts = await a.hosts.list(admin);
    expect(hosts.map((h) => [h.name, h.state, h.used.memoryMb, h.capacity])).toEqual([
      ['h1', 'STALE', 0, BOX_CAPACITY],
      ['h2', 'UP', 4096, BOX_CAPACITY],
    ]);
    await expect(a.hosts.list(alice)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a hold sweep on another replica leaves a lost allocation to the host’s replica', async () => {
    await setup();
    const r = await a.resources.create(alice, box({ name: 'far', host: 'h2' }));
    // h2's runner took the allocate job and died; then the lease and the hold ran out.
    await storage.db
      .updateTable('jobs')
      .set({ state: 'running', locked_by: 'gone', locked_until: clock.now() })
      .where('key', '=', `allocate:${r.id}`)
      .execute();
    clock.advance(16 * 60_000);
    await a.hosts.heartbeat();
    await b.hosts.heartbeat();
    expect(await a.sweep()).toMatchObject({ holdsReconciled: 0, staleHosts: 0 });
    expect((await a.resources.get(alice, r.id)).status).toBe('PROVISIONING');
    const hold = await storage.db
      .selectFrom('reservations')
      .select(['state', 'expires_at'])
      .where('resource_id', '=', r.id)
      .executeTakeFirstOrThrow();
    expect(hold.state).toBe('pending');
    expect(hold.expires_at.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(calls).toEqual([]); // h1's replica asked h2's provisioner nothing
    expect(await a.runJobs()).toBe(0);
    expect(await b.runJobs()).toBe(1);
    expect((await a.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(calls).toEqual([{ op: 'allocate', resourceId: r.id, host: 'h2' }]);
  });
});
