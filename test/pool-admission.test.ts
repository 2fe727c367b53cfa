/**
 * Acceptance (issue 4): 64 concurrent creates over two replicas on one real PostgreSQL
 * against a pool of 50: exactly 50 succeed, no machine twice, 14 typed CAPACITY_EXHAUSTED,
 * and all 14 holds released. Then a refresh during allocations loses no allocation and
 * never hands out a maintenance machine.
 */

import {
  type Actor,
  createSlipway,
  isSlipwayError,
  openDatabase,
  type Slipway,
  type SlipwayStorage,
} from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { type PoolEntryInput, poolProvisioner } from '@slipway/provisioner-pool';
import { afterEach, describe, expect, it } from 'vitest';
import { checkInvariants } from './support/invariants.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const user: Actor = { id: 'tenant', role: 'user' };
const SPEC = { vcpu: 1, memoryMb: 1024, diskGb: 10 }; // standard price 22

const machines = (n: number, status: 'available' | 'maintenance' = 'available'): PoolEntryInput[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `m-${String(i).padStart(2, '0')}`,
    name: `machine-${i}`,
    host: `192.0.2.${i + 1}`,
    sshPort: 22,
    cockpitUrl: `https://cockpit.example.test/m-${i}`,
    size: { vcpu: 2, memoryMb: 4096, diskGb: 50 },
    labels: {},
    status,
  }));

describe('pool admission over two replicas on PostgreSQL', () => {
  let storage: TestStorage;
  let second: SlipwayStorage;
  let replicas: Slipway[] = [];
  let pool: PoolEntryInput[];

  afterEach(async () => {
    for (const r of replicas) await r.close();
    replicas = [];
    await second.close();
    await storage.close();
  });

  async function setup(initial: PoolEntryInput[]) {
    pool = initial;
    storage = await createTestStorage('postgres', { poolSize: 20 });
    second = await openDatabase({ url: storage.url as string, poolSize: 20 });
    // Each replica has its own connections and its own plugin instance; they share only the database.
    for (const database of [storage, second]) {
      replicas.push(
        await createSlipway({
          database,
          provisioners: [poolProvisioner({ source: { kind: 'function', load: async () => ({ pool }) } })],
          rateLimits: {},
        }),
      );
    }
    await replicas[0]?.accounts.grant(admin, { accountId: user.id, amount: 10_000 });
  }

  const create = (i: number) =>
    (replicas[i % 2] as Slipway).resources.create(user, {
      name: `job-${i}`,
      provisioner: 'pool',
      spec: SPEC,
      requestId: `req-${i}`,
    });

  it('64 creates against 50 machines: 50 succeed, 14 exhausted with their holds released', async () => {
    await setup(machines(50));
    const results = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => create(i)));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(ok).toHaveLength(50);
    expect(errors).toHaveLength(14);
    for (const e of errors) expect(isSlipwayError(e, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect(new Set(ok.map((r) => r.externalId)).size).toBe(50);
    // The machine's cockpit link travels onto the resource.
    for (const r of ok) expect(r.cockpitUrl).toBe(`https://cockpit.example.test/m-${Number(r.externalId?.slice(2))}`);

    const failed = await storage.db
      .selectFrom('resources')
      .innerJoin('reservations', 'reservations.id', 'resources.reservation_id')
      .select(['resources.status', 'reservations.state'])
      .where('resources.status', '=', 'FAILED')
      .execute();
    expect(failed).toHaveLength(14);
    expect(failed.every((f) => f.state === 'released')).toBe(true);
    expect((await checkInvariants(storage.db)).problems).toEqual([]);
    const wallet = await replicas[0]?.ledger.wallet(storage.db, user.id);
    expect(wallet).toMatchObject({ balance: 10_000 - 50 * 22, held: 0 });
  });

  it('a refresh during allocations loses no allocation and never hands out a maintenance machine', async () => {
    await setup(machines(30));
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => create(i)));
    // The operator moves every machine to maintenance while more requests arrive.
    pool = machines(30, 'maintenance');
    const refreshing = (async () => {
      return replicas[1]?.registry.get('pool').refresh({ events: { emit: () => {} } });
    })();
    const during = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => create(100 + i)));
    const refreshed = await refreshing;
    expect(refreshed).toMatchObject({ prevPoolSize: 30, poolSize: 30 });
    const after = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => create(200 + i)));

    // Every allocation made before the refresh is still RUNNING on its machine.
    for (const r of first) {
      expect((await replicas[0]?.resources.get(user, r.id))?.status).toBe('RUNNING');
    }
    // Requests after the refresh find only maintenance machines: all exhausted, holds released.
    for (const r of after) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect(isSlipwayError(r.reason, 'CAPACITY_EXHAUSTED')).toBe(true);
    }
    const running = await storage.db
      .selectFrom('resources')
      .select(['external_id'])
      .where('status', '=', 'RUNNING')
      .execute();
    const duringOk = during.filter((r) => r.status === 'fulfilled').length;
    expect(running).toHaveLength(10 + duringOk);
    expect(new Set(running.map((r) => r.external_id)).size).toBe(running.length);
    expect((await checkInvariants(storage.db)).problems).toEqual([]);
  });
});
