/**
 * Many creates at once against one nearly-full host, through two replicas with their own
 * connection pools on one PostgreSQL: the host is never overfilled (placement locks the host
 * row in the admission transaction), the losers get CAPACITY_EXHAUSTED, and exactly the
 * winners hold credit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, openDatabase, type Slipway, type SlipwayStorage } from '../src/index.js';
import { createTestStorage, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 1 };
const SLOTS = 10; // the host fits ten of SPEC (by memory)
const users = ['u0', 'u1', 'u2', 'u3'].map((id): Actor => ({ id, role: 'user' }));

describe('concurrent creates against one host on PostgreSQL', () => {
  let storage: TestStorage;
  let second: SlipwayStorage;
  const replicas: Slipway[] = [];

  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.close();
    await second.close();
    await storage.close();
  });

  it('never overfill it: exactly the free slots are taken, the rest CAPACITY_EXHAUSTED, no stray hold', async () => {
    storage = await createTestStorage('postgres', { poolSize: 12 });
    second = await openDatabase({ url: storage.url as string, poolSize: 12 });
    const calls: HostCall[] = [];
    const machines: HostMachines = new Map();
    const capacity = { vcpu: 64, memoryMb: SLOTS * SPEC.memoryMb, diskGb: 1000 };
    const options = { rateLimits: {}, policy: { wait: false } };
    const a = await createSlipway({
      database: storage,
      provisioners: [boxProvisioner({ name: 'h1', capacity, calls, machines })],
      ...options,
    });
    // The other replica runs the same provisioner but has not registered its host: only h1 is live.
    const b = await createSlipway({
      database: second,
      provisioners: [boxProvisioner({ name: 'h2', capacity, calls, machines })],
      ...options,
    });
    replicas.push(a, b);
    await a.hosts.register();
    for (const u of users) await a.accounts.grant(admin, { accountId: u.id, amount: 10_000 });
    const price = (await a.resources.quote(users[0] as Actor, { name: 'q', provisioner: 'box', spec: SPEC })).price;

    for (let i = 0; i < 6; i += 1)
      await a.resources.create(users[i % 4] as Actor, { name: `pre-${i}`, provisioner: 'box', spec: SPEC });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 32 }, (_, i) =>
        (i % 2 === 0 ? a : b).resources.create(users[i % 4] as Actor, {
          name: `race-${i}`,
          provisioner: 'box',
          spec: SPEC,
        }),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string }] : []));
    expect(won).toHaveLength(SLOTS - 6);
    expect(lost.map((e) => e.code)).toEqual(Array(32 - (SLOTS - 6)).fill('CAPACITY_EXHAUSTED'));

    const [usage] = await a.hosts.list(admin);
    expect(usage?.used).toEqual({ vcpu: SLOTS, memoryMb: SLOTS * SPEC.memoryMb, diskGb: SLOTS, resources: SLOTS });
    const rows = await storage.db.selectFrom('resources').select(['owner_id', 'host']).execute();
    expect(rows).toHaveLength(SLOTS);
    expect(new Set(rows.map((r) => r.host))).toEqual(new Set(['h1']));
    for (const u of users) {
      const mine = rows.filter((r) => r.owner_id === u.id).length;
      expect(await a.ledger.wallet(storage.db, u.id)).toMatchObject({ balance: 10_000, held: mine * price });
    }
    expect(calls).toEqual([]); // nothing allocated yet: the jobs wait for a runner
  });
});
