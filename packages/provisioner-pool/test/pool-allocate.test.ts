import { isSlipwayError } from '@slipway/core';
import { describe, expect, it } from 'vitest';
import type { MachineRecord, PoolEntryInput } from '../src/index.js';
import { poolProvisioner } from '../src/index.js';
import { machines, record, request, testContext } from './helpers.js';

const pool = (entries: PoolEntryInput[]) => poolProvisioner({ source: { kind: 'static', machines: entries } });

const small = machines(2, 0, { size: { vcpu: 2, memoryMb: 2048, diskGb: 20 }, labels: { zone: 'a' } });
const big = machines(2, 10, { size: { vcpu: 16, memoryMb: 65536, diskGb: 500 }, labels: { zone: 'b', gpu: 'a100' } });

describe('pool allocate', () => {
  it('hands out a machine with its address, SSH port and Cockpit URL', async () => {
    const p = pool(machines(1, 0, { sshPort: 2222 }));
    const ctx = testContext();
    const req = request();
    const allocation = await p.allocate(req, ctx);
    expect(allocation).toEqual({
      resourceId: req.resourceId,
      externalId: 'm-00',
      ip: '10.0.0.1',
      sshPort: 2222,
      cockpitUrl: 'https://10.0.0.1:9090/',
      state: 'running',
      data: { machineId: 'm-00', machineName: 'machine 0' },
    });
    expect(await record(ctx, 'm-00')).toMatchObject({
      status: 'allocated',
      resourceId: req.resourceId,
      requestId: req.requestId,
      ownerId: req.ownerId,
    });
    expect(ctx.emitted.map((e) => e.action)).toContain('pool.allocated');
  });

  it('fits by size, smallest fitting machine first', async () => {
    const p = pool([...big, ...small]);
    const ctx = testContext();
    const a = await p.allocate(request({ spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } }), ctx);
    expect(['m-00', 'm-01']).toContain(a.externalId);
    const b = await p.allocate(request({ spec: { vcpu: 8, memoryMb: 4096, diskGb: 10 } }), ctx);
    expect(['m-10', 'm-11']).toContain(b.externalId);
  });

  it('fits by labels: every requested label must be equal on the machine', async () => {
    const p = pool([...small, ...big]);
    const ctx = testContext();
    const gpu = await p.allocate(request({ labels: { gpu: 'a100' } }), ctx);
    expect(['m-10', 'm-11']).toContain(gpu.externalId);
    const zoneA = await p.allocate(request({ labels: { zone: 'a' } }), ctx);
    expect(['m-00', 'm-01']).toContain(zoneA.externalId);
    const error = await p.allocate(request({ labels: { zone: 'a', gpu: 'a100' } }), ctx).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
  });

  it('never hands out a machine in maintenance', async () => {
    const p = pool([...machines(1, 0, { status: 'maintenance' }), ...machines(1, 1)]);
    const ctx = testContext();
    expect((await p.allocate(request(), ctx)).externalId).toBe('m-01');
    const error = await p.allocate(request(), ctx).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect((await record(ctx, 'm-00'))?.status).toBe('maintenance');
  });

  it('answers CAPACITY_EXHAUSTED with "pool exhausted" when nothing fits', async () => {
    const p = pool(machines(2));
    const ctx = testContext();
    await p.allocate(request(), ctx);
    await p.allocate(request(), ctx);
    const error = await p
      .allocate(request({ spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } }), ctx)
      .catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect((error as Error).message).toMatch(/^pool exhausted: /);
    const tooBig = await p
      .allocate(request({ spec: { vcpu: 64, memoryMb: 512, diskGb: 1 } }), testContext())
      .catch((e: unknown) => e);
    expect(isSlipwayError(tooBig, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect((tooBig as Error).message).toContain('at least 64 vCPU');
  });

  it('is idempotent per resource, also under concurrent retries', async () => {
    const p = pool(machines(5));
    const ctx = testContext();
    const req = request();
    const results = await Promise.all(Array.from({ length: 5 }, () => p.allocate(req, ctx)));
    expect(new Set(results.map((a) => a.externalId)).size).toBe(1);
    expect((await p.allocate(req, ctx)).externalId).toBe(results[0]?.externalId);
    const held = (await p.allocations(ctx)).filter((m) => m.status === 'allocated');
    expect(held.map((m) => m.resourceId)).toEqual([req.resourceId]);
  });

  it('finds a machine claimed before a crash kept it from writing the assignment', async () => {
    const p = pool(machines(3));
    const ctx = testContext();
    await p.status({ resourceId: 'x', externalId: '' }, ctx);
    await p.allocate(request(), ctx); // seeds the store
    const req = request();
    const entry = await ctx.store.get<MachineRecord>('machine/m-02');
    if (!entry) throw new Error('not seeded');
    await ctx.store.put<MachineRecord>('machine/m-02', {
      ...entry.value,
      status: 'allocated',
      resourceId: req.resourceId,
      requestId: req.requestId,
      ownerId: req.ownerId,
    });
    expect((await p.allocate(req, ctx)).externalId).toBe('m-02');
    expect((await ctx.store.get(`assignment/${req.resourceId}`))?.value).toEqual({
      machineId: 'm-02',
      requestId: req.requestId,
    });
  });

  it('status and release work by resource id alone', async () => {
    const p = pool(machines(2));
    const ctx = testContext();
    const req = request();
    const a = await p.allocate(req, ctx);
    const lookup = { resourceId: req.resourceId, externalId: '' };
    expect(await p.status(lookup, ctx)).toMatchObject({ state: 'running', ip: a.ip, cockpitUrl: a.cockpitUrl });
    await p.release(lookup, ctx);
    expect((await p.status(a, ctx)).state).toBe('gone');
    expect(await record(ctx, a.externalId)).toMatchObject({ status: 'available', resourceId: null });
    await expect(p.release(a, ctx)).resolves.toBeUndefined();
  });

  it('two replicas over one store seed once and share the machines', async () => {
    const ctx1 = testContext();
    const ctx2 = testContext(ctx1.store);
    const p1 = pool(machines(3));
    const p2 = pool(machines(3));
    const got = await Promise.all([
      p1.allocate(request(), ctx1),
      p2.allocate(request(), ctx2),
      p1.allocate(request(), ctx1),
    ]);
    expect(new Set(got.map((a) => a.externalId)).size).toBe(3);
    const error = await p2.allocate(request(), ctx2).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
  });

  it('lists every machine with its holder for the admin view', async () => {
    const p = pool([...machines(2), ...machines(1, 2, { status: 'maintenance' })]);
    const ctx = testContext();
    const req = request({ ownerId: 'alice' });
    await p.allocate(req, ctx);
    const view = await p.allocations(ctx);
    expect(view).toHaveLength(3);
    const held = view.find((m) => m.status === 'allocated');
    expect(held).toMatchObject({
      resourceId: req.resourceId,
      ownerId: 'alice',
      requestId: req.requestId,
      maintenance: false,
      removed: false,
    });
    expect(new Date(held?.since ?? '').getTime()).toBeGreaterThan(0);
    expect(view.find((m) => m.machineId === 'm-02')).toMatchObject({ status: 'maintenance', maintenance: true });
    expect(await p.allocations(ctx.store)).toEqual(view);
  });
});
