/**
 * Stopping a replica's host heartbeats (PGlite): a heartbeat in flight when `stop()` runs
 * never claims the host back, and `stop()` waits for the heartbeat its timer started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSlipway, HostService, LocalHosts, type Slipway, silentLogger } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

/**
 * Holds the next `executeTakeFirst` once armed at the gate until `open` resolves; says when one
 * reached it and finished, and counts the UPDATEs begun meanwhile (while it was held).
 */
interface Gate {
  armed: boolean;
  open: Promise<void>;
  reached: () => void;
  held: boolean;
  updatesWhileHeld: number;
  finished: boolean;
}

/** Proxy a Kysely (or builder) so the next armed `executeTakeFirst` waits for `gate.open`. */
function gated<T extends object>(target: T, gate: Gate): T {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function') return v;
      if (p === 'executeTakeFirst' && gate.armed) {
        gate.armed = false;
        return async (...args: unknown[]) => {
          gate.held = true;
          gate.reached();
          await gate.open;
          gate.held = false;
          const out = await (v as (...a: unknown[]) => unknown).apply(t, args);
          gate.finished = true;
          return out;
        };
      }
      if (p === 'updateTable' && gate.held) gate.updatesWhileHeld += 1;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        return p === 'updateTable' || (r && typeof r === 'object' && 'executeTakeFirst' in r && p !== 'transaction')
          ? gated(r as object, gate)
          : r;
      };
    },
  });
}

describe('stopping host heartbeats', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  let s: Slipway;
  let open: () => void;
  let reached: Promise<void>;
  let gate: Gate;

  afterEach(async () => {
    await s.close();
    await storage.close();
  });

  /** A HostService of replica-x on a gated database, serving h1. */
  async function setup(heartbeatMs: number) {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const calls: HostCall[] = [];
    const machines: HostMachines = new Map();
    s = await createSlipway({
      database: storage,
      provisioners: [boxProvisioner({ name: 'h1', calls, machines })],
      clock,
    });
    let reachedGate!: () => void;
    reached = new Promise<void>((r) => (reachedGate = r));
    gate = {
      armed: false,
      open: new Promise<void>((r) => (open = r)),
      reached: reachedGate,
      held: false,
      updatesWhileHeld: 0,
      finished: false,
    };
    const local = new LocalHosts('replica-x', { heartbeatMs, staleAfterMs: 10_000 });
    const hosts = new HostService({
      db: gated(storage.db, gate),
      registry: s.registry,
      events: s.events,
      eventService: s.eventService,
      clock,
      logger: silentLogger,
      local,
    });
    return { hosts, local };
  }

  const hostRow = () => storage.db.selectFrom('hosts').select(['state', 'replica_id']).executeTakeFirstOrThrow();

  it('a host stays stopped after stop(), even with a heartbeat in flight', async () => {
    const { hosts, local } = await setup(1_000);
    await hosts.register();
    clock.advance(1_000);
    gate.armed = true; // the next heartbeatHost UPDATE waits at the gate (it passed serves() already)
    const beat = hosts.heartbeat();
    await reached;
    await hosts.stop(); // the replica closes: h1 → stopped
    expect((await hostRow()).state).toBe('stopped');
    open();
    await beat; // finds h1 not up: a stopping replica does not claim it back
    expect(await hostRow()).toEqual({ state: 'stopped', replica_id: 'replica-x' });
    expect(local.serves('h1')).toBe(false);
  });

  it('stop() waits for the heartbeat its timer started before letting go of the host', async () => {
    const { hosts } = await setup(5);
    await hosts.start();
    gate.armed = true; // the timer's next heartbeat waits at the gate
    await reached;
    const stopped = hosts.stop();
    await new Promise((r) => setImmediate(r)); // let stop() go as far as it goes without the heartbeat
    expect(gate.updatesWhileHeld).toBe(0); // it has not marked the host stopped under the heartbeat
    open();
    await stopped;
    expect(gate.finished).toBe(true);
    expect((await hostRow()).state).toBe('stopped');
  });
});
