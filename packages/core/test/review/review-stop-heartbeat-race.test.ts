/**
 * REVIEW: `HostService.stop()` does not wait for an in-flight heartbeat. A heartbeat that
 * passed its `serves()` check before stop() and reaches the database after stop() marked
 * the host `stopped` finds the row not `up`, and re-claims it (`#claim`): the closed
 * replica's host is back UP (fresh heartbeat, closed replica's id) and in its LocalHosts.
 * A replacement replica is then refused HOST_IN_USE for staleAfterMs, and creates are placed
 * on a host nobody serves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, HostService, LocalHosts, type Slipway } from '../../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from '../support/host-provisioner.js';

const admin: Actor = { id: 'admin', role: 'admin' };

/** Proxy a Kysely (or builder) so the next `executeTakeFirst` of an UPDATE waits for `gate`. */
function gated<T extends object>(target: T, gate: { armed: boolean; open: Promise<void> }): T {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function') return v;
      if (p === 'executeTakeFirst' && gate.armed) {
        gate.armed = false;
        return async (...args: unknown[]) => {
          await gate.open;
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      }
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        return p === 'updateTable' || (r && typeof r === 'object' && 'executeTakeFirst' in r && p !== 'transaction')
          ? gated(r as object, gate)
          : r;
      };
    },
  });
}

describe('review: stop vs an in-flight heartbeat', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  let s: Slipway;
  afterEach(async () => {
    await s.close();
    await storage.close();
  });

  it('a host stays stopped after stop(), even with a heartbeat in flight', async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const calls: HostCall[] = [];
    const machines: HostMachines = new Map();
    s = await createSlipway({ database: storage, provisioners: [boxProvisioner({ name: 'h1', calls, machines })], clock });
    let open!: () => void;
    const gate = { armed: false, open: new Promise<void>((r) => (open = r)) };
    const local = new LocalHosts('replica-x', { heartbeatMs: 1_000, staleAfterMs: 10_000 });
    const hosts = new HostService({
      db: gated(storage.db, gate),
      registry: s.registry,
      events: s.events,
      eventService: s.eventService,
      clock,
      logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
      local,
    });
    await hosts.register();
    clock.advance(1_000);
    gate.armed = true; // the next heartbeatHost UPDATE waits at the gate (it passed serves() already)
    const beat = hosts.heartbeat();
    await hosts.stop(); // the replica closes: h1 → stopped
    expect((await storage.db.selectFrom('hosts').select('state').executeTakeFirstOrThrow()).state).toBe('stopped');
    open();
    await beat;
    const row = await storage.db.selectFrom('hosts').select(['state', 'replica_id']).executeTakeFirstOrThrow();
    console.log('after stop + late heartbeat:', row, 'local serves h1:', local.serves('h1'));
    // FAILS: the late heartbeat re-claimed the host for the stopped replica.
    expect(row.state).toBe('stopped');
    expect(local.serves('h1')).toBe(false);
    void admin;
  });
});
