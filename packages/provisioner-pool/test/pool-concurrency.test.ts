/**
 * Two replicas, each with its own database connection, share one pool in the real SQL store
 * (PGlite and PostgreSQL). No machine may ever be handed out twice.
 */
// Not exported by @slipway/core yet.
import { isSlipwayError, openDatabase, type SlipwayStorage, sqlProvisionerStore } from '@slipway/core';
import { createTestStorage, type TestStorage, testEngines } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type MachineRecord, type PoolProvisioner, poolProvisioner } from '../src/index.js';
import { machines, request, type TestContext, testContext } from './helpers.js';

const engines = await testEngines();

describe.each(engines)('pool on two replicas over %s', (engine) => {
  let storage: TestStorage;
  let second: SlipwayStorage | undefined;
  afterEach(async () => {
    await second?.close();
    await storage.close();
  });

  /** Replica 2 opens its own connection pool to the same PostgreSQL database (PGlite: one instance). */
  async function replicas(source: () => unknown) {
    storage = await createTestStorage(engine, { poolSize: 20 });
    second = engine === 'postgres' && storage.url ? await openDatabase({ url: storage.url, poolSize: 20 }) : undefined;
    const make = (db: SlipwayStorage['db']): { p: PoolProvisioner; ctx: TestContext } => ({
      p: poolProvisioner({ source: { kind: 'function', load: async () => source() } }),
      ctx: testContext(sqlProvisionerStore(db, 'pool')),
    });
    return [make(storage.db), make((second ?? storage).db)] as const;
  }

  async function allocated(ctx: TestContext): Promise<MachineRecord[]> {
    return (await ctx.store.list<MachineRecord>('machine/'))
      .map((e) => e.value)
      .filter((m) => m.status === 'allocated');
  }

  it('64 concurrent allocations against 50 machines: 50 succeed, 14 are CAPACITY_EXHAUSTED', async () => {
    const [r1, r2] = await replicas(() => machines(50));
    const requests = Array.from({ length: 64 }, (_, i) => request({ name: `c${i}` }));
    const results = await Promise.allSettled(
      requests.map((req, i) => (i % 2 === 0 ? r1 : r2).p.allocate(req, (i % 2 === 0 ? r1 : r2).ctx)),
    );
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(50);
    expect(new Set(ok.map((a) => a.externalId)).size).toBe(50);
    expect(failed).toHaveLength(14);
    for (const reason of failed) expect(isSlipwayError(reason, 'CAPACITY_EXHAUSTED'), String(reason)).toBe(true);

    const held = await allocated(r2.ctx);
    expect(held).toHaveLength(50);
    const byResource = new Map(held.map((m) => [m.resourceId, m.id]));
    for (const a of ok) expect(byResource.get(a.resourceId)).toBe(a.externalId);
    expect(await r1.ctx.store.list('assignment/')).toHaveLength(50);

    // Retries on the other replica return the same machines.
    for (const [i, r] of results.entries()) {
      const req = requests[i];
      if (r.status !== 'fulfilled' || !req || i > 20) continue;
      expect((await (i % 2 === 0 ? r2 : r1).p.allocate(req, (i % 2 === 0 ? r2 : r1).ctx)).externalId).toBe(
        r.value.externalId,
      );
    }
  });

  it('a refresh during allocations loses no allocation and never hands out a maintenance machine', async () => {
    let pool = machines(50);
    const [r1, r2] = await replicas(() => pool);
    // Both replicas have synced the first pool (otherwise a lazy first sync could apply the new one early).
    await r1.p.refresh(r1.ctx);
    await r2.p.refresh(r2.ctx);
    const maintenance = new Set(Array.from({ length: 10 }, (_, i) => `m-0${i}`));
    const removedIds = new Set(['m-40', 'm-41', 'm-42', 'm-43', 'm-44']);
    const next = [
      ...machines(50)
        .filter((m) => !removedIds.has(m.id))
        .map((m) => (maintenance.has(m.id) ? { ...m, status: 'maintenance' as const } : m)),
      ...machines(5, 50),
    ];

    const fire = (count: number, offset: number) =>
      Promise.allSettled(
        Array.from({ length: count }, (_, i) => {
          const r = (offset + i) % 2 === 0 ? r1 : r2;
          return r.p.allocate(request({ name: `c${offset + i}` }), r.ctx);
        }),
      );
    const phase1 = fire(30, 0);
    pool = next;
    const [refresh, first] = await Promise.all([r2.p.refresh(r2.ctx), phase1]);
    const second = await fire(30, 30);

    expect(refresh).toMatchObject({ prevPoolSize: 50, poolSize: 50, added: ['m-50', 'm-51', 'm-52', 'm-53', 'm-54'] });
    expect([...refresh.removed].sort()).toEqual([...removedIds]);

    const all = [...first, ...second];
    const ok = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of all) {
      if (r.status === 'rejected') expect(isSlipwayError(r.reason, 'CAPACITY_EXHAUSTED'), String(r.reason)).toBe(true);
    }
    expect(new Set(ok.map((a) => a.externalId)).size).toBe(ok.length);

    // Every allocation handed out is still recorded with its holder.
    const held = await allocated(r1.ctx);
    expect(held).toHaveLength(ok.length);
    const byResource = new Map(held.map((m) => [m.resourceId, m]));
    for (const a of ok) expect(byResource.get(a.resourceId)?.id).toBe(a.externalId);

    // After the refresh: no maintenance or removed machine was handed out.
    for (const r of second) {
      if (r.status === 'fulfilled') {
        expect(maintenance.has(r.value.externalId) || removedIds.has(r.value.externalId)).toBe(false);
      }
    }
    // Held maintenance/removed machines were taken before the refresh reached them, and kept.
    const early = held.filter((m) => maintenance.has(m.id) || removedIds.has(m.id));
    for (const m of early) expect(m.sourceStatus === 'maintenance' || m.removed).toBe(true);
    // 40 machines are available after the refresh and demand (60) exceeds supply: all are taken.
    expect(ok).toHaveLength(40 + early.length);

    const records = (await r1.ctx.store.list<MachineRecord>('machine/')).map((e) => e.value);
    for (const m of records) {
      if (removedIds.has(m.id)) expect(m).toMatchObject({ status: 'allocated', removed: true });
      if (maintenance.has(m.id) && m.status !== 'allocated') expect(m.status).toBe('maintenance');
    }
  });
});
