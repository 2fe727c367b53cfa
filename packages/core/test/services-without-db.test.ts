/**
 * What an application (and the server) reads and writes through services, with no database
 * handle: events by actor, resources by ids, and event sinks that store what a plugin emits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import { createTestStorage, type TestStorage } from '../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const bob: Actor = { id: 'bob', role: 'user' };
const spec = { vcpu: 1, memoryMb: 512, diskGb: 0 };

describe('services without a database handle', () => {
  let storage: TestStorage;
  let slipway: Slipway;
  beforeAll(async () => {
    storage = await createTestStorage('pglite');
    slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    await slipway.accounts.grant(admin, { accountId: 'bob', amount: 100 });
  });
  afterAll(async () => {
    await slipway.close();
    await storage.close();
  });

  it('getMany answers the resources the actor may see, and ignores unknown and malformed ids', async () => {
    const a = await slipway.resources.create(alice, { name: 'a', provisioner: 'demo', spec });
    const b = await slipway.resources.create(bob, { name: 'b', provisioner: 'demo', spec });
    const ids = [a.id, b.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000', a.id];
    expect((await slipway.resources.getMany(alice, ids)).map((r) => r.id)).toEqual([a.id]);
    const all = await slipway.resources.getMany(admin, ids);
    expect(all.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(all.find((r) => r.id === b.id)).toMatchObject({ ownerId: 'bob', status: 'RUNNING', cost: 15 });
    expect(await slipway.resources.getMany(alice, [])).toEqual([]);
  });

  it('appends and lists events scoped by actor', async () => {
    const seq = await slipway.eventService.append({ type: 'system', action: 'test.ping', data: { n: 1 } });
    const mine = await slipway.eventService.list(alice, { after: seq - 1 });
    expect(mine).toEqual([]); // a system event has no owner: users do not see it
    const seen = await slipway.eventService.list(admin, { after: seq - 1 });
    expect(seen).toMatchObject([{ seq, type: 'system', action: 'test.ping', data: { n: 1 } }]);
  });

  it('an admin sink stores what is emitted as admin events of the caller, and flush waits for them', async () => {
    const sink = slipway.eventService.adminSink({ actorId: 'ops', data: { provisioner: 'demo', via: 'test' } });
    sink.emit({ action: 'pool.refreshed', data: { added: 2 } });
    sink.emit({ action: 'pool.note', severity: 'warning' });
    await sink.flush();
    expect([...sink.emitted]).toEqual(['pool.refreshed', 'pool.note']);
    const events = (await slipway.eventService.list(admin, { type: 'admin' })).filter((e) => e.actorId === 'ops');
    expect(events.map((e) => [e.action, e.actorId, e.severity, e.data])).toEqual([
      ['pool.refreshed', 'ops', 'info', { provisioner: 'demo', via: 'test', added: 2 }],
      ['pool.note', 'ops', 'warning', { provisioner: 'demo', via: 'test' }],
    ]);
  });

  it('a resource sink stores events against the resource, visible to its owner', async () => {
    const r = await slipway.resources.create(alice, { name: 'c', provisioner: 'demo', spec });
    const sink = slipway.eventService.resourceSink({ id: r.id, ownerId: r.ownerId, provisioner: r.provisioner });
    sink.emit({ action: 'demo.note', data: { x: 1 } });
    await sink.flush();
    const events = await slipway.eventService.list(alice, { resourceId: r.id });
    expect(events.at(-1)).toMatchObject({
      type: 'vm',
      action: 'demo.note',
      ownerId: 'alice',
      data: { provisioner: 'demo', x: 1 },
    });
    expect(await slipway.eventService.list(bob, { resourceId: r.id })).toEqual([]);
  });
});
