import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  type DemoProvisioner,
  demoProvisioner,
  type MetadataPatch,
  type Slipway,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const bob: Actor = { id: 'bob', role: 'user' };
const input = (over: Record<string, unknown> = {}) => ({
  name: 'web-1',
  provisioner: 'demo',
  spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 },
  ...over,
});

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? e,
  );
}

describe.each(engines)('resource service on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let demo: DemoProvisioner;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    demo = demoProvisioner();
    slipway = await createSlipway({ database: storage, provisioners: [demo], rateLimits: {} });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  const audit = async (account = 'alice') => {
    const a = await slipway.ledger.audit(storage.db, account);
    expect(a.balance).toBe(a.ledgerSum);
    expect(a.held).toBe(a.pendingSum);
    return a;
  };

  it('create reserves, allocates and commits the price', async () => {
    const r = await slipway.resources.create(alice, input());
    expect(r).toMatchObject({ status: 'RUNNING', cost: 34, ownerId: 'alice', provisioner: 'demo', kind: 'vm' });
    expect(r.externalId).toMatch(/^demo-/);
    expect(await audit()).toMatchObject({ balance: 66, held: 0 });
    const actions = (await slipway.events.list(storage.db, alice)).map((e) => e.action);
    expect(actions).toEqual(['credits.granted', 'resource.requested', 'demo.allocated', 'resource.created']);
  });

  it('a failed allocation releases the hold and marks the resource failed', async () => {
    const error = await slipway.resources.create(alice, input({ options: { fail: true } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED' });
    const resourceId = (error as { details: { resourceId: string } }).details.resourceId;
    expect(await slipway.resources.get(alice, resourceId)).toMatchObject({ status: 'FAILED', cost: 0 });
    expect(await audit()).toMatchObject({ balance: 100, held: 0 });
    const failed = (await slipway.events.list(storage.db, alice)).find((e) => e.action === 'resource.failed');
    expect(failed).toMatchObject({ severity: 'warning', resourceId, data: { refunded: true } });
  });

  it('insufficient credits writes nothing', async () => {
    const error = await slipway.resources
      .create(alice, input({ spec: { vcpu: 8, memoryMb: 8192, diskGb: 100 } }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_CREDITS', required: 180, available: 100 });
    expect((await slipway.resources.list(alice)).items).toEqual([]);
    expect(await audit()).toMatchObject({ balance: 100, held: 0 });
    expect(demo.liveCount()).toBe(0);
  });

  it('bad input is a typed validation error naming the field, before any credit moves', async () => {
    const bad = await slipway.resources
      .create(alice, input({ spec: { vcpu: 0, memoryMb: 1024, diskGb: 1 } }))
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'spec.vcpu' } });
    expect(await codeOf(slipway.resources.create(alice, input({ provisioner: 'nope' })))).toBe('UNKNOWN_PROVISIONER');
    const opt = await slipway.resources.create(alice, input({ options: { delayMs: 'x' } })).catch((e: unknown) => e);
    expect(opt).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'options.delayMs' } });
    expect(await codeOf(slipway.resources.create(alice, input({ expiresAt: new Date(0) })))).toBe('VALIDATION_FAILED');
    expect(await audit()).toMatchObject({ balance: 100, held: 0 });
    expect((await slipway.resources.list(alice)).items).toEqual([]);
  });

  it('quote prices and says whether it would be admitted, writing nothing', async () => {
    expect(await slipway.resources.quote(alice, input())).toEqual({
      provisioner: 'demo',
      price: 34,
      available: 100,
      admitted: true,
      reason: null,
      host: null,
    });
    expect(await slipway.resources.quote(bob, input())).toMatchObject({
      price: 34,
      available: 0,
      admitted: false,
      reason: 'INSUFFICIENT_CREDITS',
    });
    expect((await slipway.resources.list(admin)).items).toEqual([]);
  });

  it('the same requestId returns the same resource and charges once; other parameters are refused', async () => {
    const first = await slipway.resources.create(alice, input({ requestId: 'req-1' }));
    const again = await slipway.resources.create(alice, input({ requestId: 'req-1' }));
    expect(again.id).toBe(first.id);
    expect(await audit()).toMatchObject({ balance: 66 });
    const mismatch = await slipway.resources
      .create(alice, input({ requestId: 'req-1', name: 'web-2', spec: { vcpu: 1, memoryMb: 1024, diskGb: 20 } }))
      .catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH', details: { fields: ['name', 'spec'] } });
    // Another user may use the same key independently.
    await slipway.accounts.grant(admin, { accountId: 'bob', amount: 50 });
    expect((await slipway.resources.create(bob, input({ requestId: 'req-1' }))).id).not.toBe(first.id);
  });

  it('release returns the machine and keeps the charge; releasing again is a no-op', async () => {
    const r = await slipway.resources.create(alice, input());
    expect(demo.liveCount()).toBe(1);
    const released = await slipway.resources.release(alice, r.id);
    expect(released.status).toBe('RELEASED');
    expect(released.releasedAt).toBeInstanceOf(Date);
    expect(demo.liveCount()).toBe(0);
    expect((await slipway.resources.release(alice, r.id)).status).toBe('RELEASED');
    expect(await audit()).toMatchObject({ balance: 66, held: 0 });
  });

  it('users only ever see their own resources; admins see all', async () => {
    const r = await slipway.resources.create(alice, input());
    expect(await codeOf(slipway.resources.get(bob, r.id))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.release(bob, r.id))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.updateMetadata(bob, r.id, { x: 1 }))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.refresh(bob, r.id))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.get(bob, 'not-a-uuid'))).toBe('NOT_FOUND');
    expect((await slipway.resources.list(bob)).items).toEqual([]);
    expect(await slipway.events.list(storage.db, bob)).toEqual([]);
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect((await slipway.resources.list(admin)).items.map((x) => x.id)).toEqual([r.id]);
    expect((await slipway.resources.get(admin, r.id)).ownerId).toBe('alice');
  });

  it('metadata is merge-updated (null deletes a key)', async () => {
    const r = await slipway.resources.create(alice, input({ metadata: { team: 'a', env: { tier: 'dev', zone: 1 } } }));
    const next = await slipway.resources.updateMetadata(alice, r.id, {
      env: { zone: null, owner: 'x' },
      team: null,
      n: 1,
    });
    expect(next.metadata).toEqual({ env: { tier: 'dev', owner: 'x' }, n: 1 });
    // An untyped caller (JSON from the wire) is checked at run time.
    const notAnObject = [1, 2] as unknown as MetadataPatch;
    expect(await codeOf(slipway.resources.updateMetadata(alice, r.id, notAnObject))).toBe('VALIDATION_FAILED');
  });

  it('lists with filters and keyset pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (await slipway.resources.create(alice, input({ name: `n${i}`, spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } })))
          .id,
      );
    }
    await slipway.resources.release(alice, ids[0] as string);
    const all = (await slipway.resources.list(alice, { first: 100 })).items.map((r) => r.id);
    expect([...all].sort()).toEqual([...ids].sort());
    const page1 = await slipway.resources.list(alice, { first: 2 });
    expect(page1.hasNextPage).toBe(true);
    const page2 = await slipway.resources.list(alice, { first: 10, after: page1.endCursor ?? undefined });
    expect(page2.hasNextPage).toBe(false);
    expect([...page1.items, ...page2.items].map((r) => r.id)).toEqual(all);
    expect((await slipway.resources.list(alice, { status: ['RELEASED'] })).items.map((r) => r.id)).toEqual([ids[0]]);
    expect((await slipway.resources.list(alice, { provisioner: 'other' })).items).toEqual([]);
    expect(await codeOf(slipway.resources.list(alice, { after: 'garbage' }))).toBe('VALIDATION_FAILED');
  });

  it('refresh stores what the provisioner reports', async () => {
    const r = await slipway.resources.create(alice, input());
    expect((await slipway.resources.refresh(alice, r.id)).status).toBe('RUNNING');
    // The machine vanished behind our back: the resource is marked failed with a critical event.
    await demo.release({ resourceId: r.id, externalId: r.externalId ?? '' }, {} as never);
    expect((await slipway.resources.refresh(alice, r.id)).status).toBe('FAILED');
    const events = await slipway.events.list(storage.db, alice, { resourceId: r.id });
    expect(events.at(-1)).toMatchObject({ action: 'resource.status_changed', severity: 'critical' });
  });

  it('only admins grant credits', async () => {
    expect(await codeOf(slipway.accounts.grant(alice, { accountId: 'alice', amount: 10 }))).toBe('FORBIDDEN');
    expect(await codeOf(slipway.accounts.grant(admin, { accountId: 'alice', amount: 1.5 }))).toBe('VALIDATION_FAILED');
    expect((await slipway.accounts.me(alice)).wallet).toMatchObject({ balance: 100, available: 100 });
  });
});
