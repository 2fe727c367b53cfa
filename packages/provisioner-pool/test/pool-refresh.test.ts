import { isSlipwayError, type SlipwayError } from '@slipway/core';
import { describe, expect, it } from 'vitest';
import { type PoolEntryInput, poolProvisioner } from '../src/index.js';
import { machine, machines, record, request, runJobs, testContext } from './helpers.js';

/** A provisioner whose source the test swaps between refreshes. */
function swappable(initial: unknown, hook = false) {
  let current: unknown = initial;
  const p = poolProvisioner({
    source: { kind: 'function', load: async () => current },
    ...(hook
      ? { releaseHook: { url: 'http://deployer.invalid/admin/release-vm' }, fetch: async () => new Response('ok') }
      : {}),
  });
  return { p, set: (next: unknown) => (current = next) };
}

describe('pool refresh', () => {
  it('swaps the pool and keeps current allocations', async () => {
    const { p, set } = swappable(machines(3));
    const ctx = testContext();
    const a = await p.allocate(request(), ctx);
    set([...machines(3), ...machines(2, 3)]);
    const result = await p.refresh(ctx);
    expect(result).toEqual({
      prevPoolSize: 3,
      poolSize: 5,
      added: ['m-03', 'm-04'],
      removed: [],
      stillAllocated: [a.externalId],
    });
    expect((await p.status(a, ctx)).state).toBe('running');
    expect(ctx.emitted.map((e) => e.action)).toContain('pool.refreshed');
  });

  it('updates free machines from the source and drops the ones removed', async () => {
    const { p, set } = swappable(machines(3));
    const ctx = testContext();
    await p.status({ resourceId: 'r', externalId: '' }, ctx);
    await p.refresh(ctx);
    set([machine(0, { host: '10.9.9.9', labels: { zone: 'z' } }), ...machines(1, 1)]);
    const result = await p.refresh(ctx);
    expect(result).toMatchObject({ prevPoolSize: 3, poolSize: 2, added: [], removed: ['m-02'], stillAllocated: [] });
    expect(await record(ctx, 'm-02')).toBeUndefined();
    expect(await record(ctx, 'm-00')).toMatchObject({ host: '10.9.9.9', labels: { zone: 'z' }, status: 'available' });
  });

  it('flags a removed allocated machine instead of yanking it; drops it on release', async () => {
    const { p, set } = swappable(machines(1));
    const ctx = testContext();
    const a = await p.allocate(request(), ctx);
    set(machines(1, 1));
    const result = await p.refresh(ctx);
    expect(result).toMatchObject({ poolSize: 1, added: ['m-01'], removed: ['m-00'], stillAllocated: ['m-00'] });
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'allocated', removed: true });
    expect(await p.status(a, ctx)).toMatchObject({ state: 'running', ip: a.ip });
    expect((await p.allocations(ctx)).find((m) => m.machineId === 'm-00')).toMatchObject({ removed: true });
    expect(ctx.emitted.some((e) => e.action === 'pool.machine.removed_while_allocated')).toBe(true);
    await p.release(a, ctx);
    expect(await record(ctx, 'm-00')).toBeUndefined();
    expect((await p.allocate(request(), ctx)).externalId).toBe('m-01');
  });

  it('a removed machine returning to the source is un-flagged', async () => {
    const { p, set } = swappable(machines(1));
    const ctx = testContext();
    const a = await p.allocate(request(), ctx);
    set([]);
    await p.refresh(ctx);
    set(machines(1));
    expect(await p.refresh(ctx)).toMatchObject({ added: ['m-00'], removed: [], stillAllocated: ['m-00'] });
    await p.release(a, ctx);
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'available', removed: false });
  });

  it('puts an allocated machine into maintenance without taking it from its user', async () => {
    const { p, set } = swappable(machines(1));
    const ctx = testContext();
    const a = await p.allocate(request(), ctx);
    set(machines(1, 0, { status: 'maintenance' }));
    expect(await p.refresh(ctx)).toMatchObject({ removed: [], stillAllocated: ['m-00'] });
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'allocated', sourceStatus: 'maintenance' });
    expect((await p.status(a, ctx)).state).toBe('running');
    expect((await p.allocations(ctx))[0]).toMatchObject({ status: 'allocated', maintenance: true });
    await p.release(a, ctx);
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'maintenance', resourceId: null });
    const error = await p.allocate(request(), ctx).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
    set(machines(1));
    await p.refresh(ctx);
    expect((await p.allocate(request(), ctx)).externalId).toBe('m-00');
  });

  it('refuses a bad pool as a whole, listing every problem, and leaves the store untouched', async () => {
    const { p, set } = swappable(machines(3));
    const ctx = testContext();
    await p.allocate(request(), ctx);
    const before = await ctx.store.list();
    const bad: PoolEntryInput[] = [...machines(2), { ...machine(5), sshPort: 0 }, machine(1)];
    set({ pool: bad });
    const error = (await p.refresh(ctx).catch((e: unknown) => e)) as SlipwayError;
    expect(isSlipwayError(error, 'VALIDATION_FAILED')).toBe(true);
    expect(error.details.problems).toEqual([
      'pool[2].sshPort: Too small: expected number to be >=1',
      'pool[3].id: duplicate id "m-01" (also pool[1])',
    ]);
    expect(await ctx.store.list()).toEqual(before);
    set(new Error('unused'));
    await expect(p.refresh(ctx)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await ctx.store.list()).toEqual(before);
  });

  it('a failing loader is a validation problem too', async () => {
    const p = poolProvisioner({
      source: {
        kind: 'function',
        load: async () => {
          throw new Error('inventory API down');
        },
      },
    });
    await expect(p.refresh(testContext())).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { problems: ['pool: loading the pool failed (inventory API down)'] },
    });
  });

  it('keeps serving the synced pool when the source breaks for a new replica', async () => {
    const ctx = testContext();
    const good = swappable(machines(2));
    await good.p.refresh(ctx);
    const broken = swappable('not json');
    expect((await broken.p.allocate(request(), testContext(ctx.store))).externalId).toMatch(/^m-0[01]$/);
    await expect(swappable('not json').p.allocate(request(), testContext())).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('re-enqueues the release hook of machines still cleaning', async () => {
    const { p } = swappable(machines(1), true);
    const ctx = testContext();
    const a = await p.allocate(request(), ctx);
    await p.release(a, ctx);
    ctx.jobs.enqueued.length = 0; // as if the core gave the job up
    await p.refresh(ctx);
    expect(ctx.jobs.enqueued.map((j) => j.key)).toEqual([`pool-release-hook:m-00:${a.resourceId}`]);
    expect(await runJobs(p, ctx)).toEqual([]);
    expect((await record(ctx, 'm-00'))?.status).toBe('available');
  });
});
