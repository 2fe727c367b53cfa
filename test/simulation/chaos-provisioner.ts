/**
 * A provisioner that misbehaves on purpose, over an in-memory fake "provider".
 *
 * Faults it injects (all decided by a seeded PRNG):
 *  - time-outs: throws PROVISIONER_TIMEOUT before doing anything, or hangs until the core's
 *    per-call time-out aborts it;
 *  - partial creates: builds the machine, then times out / hangs / fails permanently, so a
 *    retry, the cleanup job or the hold sweeper has to find it by resourceId;
 *  - duplicate replies: allocate for a resource that already has a machine answers with
 *    that same machine (the contract's idempotency), also after a lost reply;
 *  - permanent failures: a plain Error (the core wraps it as PROVISIONER_FAILED);
 *  - lost releases: a retryable error without releasing, a time-out after really
 *    releasing, or a hang without releasing.
 *
 * It follows packages/core/src/provisioner/provisioner.ts: allocate is idempotent by
 * resourceId, release of something unknown succeeds, and `externalId: ''` means "look it
 * up by resourceId" for both release and status.
 *
 * Determinism: a fault decision depends only on (seed, the resource's stable sim key, the
 * operation, how many times that operation was called for that resource), never on the
 * order in which the core happens to call different resources, nor on their random UUIDs.
 */
import { type Allocation, type AllocationStatus, type Provisioner, SlipwayError } from '@slipway/core';
import { Random } from './prng.js';

export interface Machine {
  /** Provider id, also the resource's externalId. */
  readonly id: string;
  readonly resourceId: string;
  readonly key: string;
  live: boolean;
  readonly state: 'running' | 'stopped';
  readonly ip: string;
  /** Actual cost reported on allocate (absent: the quote is charged). */
  readonly cost?: number;
}

export interface ChaosRates {
  allocate: {
    timeout: number;
    hang: number;
    partialTimeout: number;
    partialHang: number;
    partialFail: number;
    fail: number;
    retryable: number;
    /** A duplicate reply (machine already there) that is itself lost once more. */
    duplicateLost: number;
  };
  release: { lostRetryable: number; releasedThenTimeout: number; hang: number; releasedThenHang: number };
  status: { timeout: number };
}

export const DEFAULT_CHAOS: ChaosRates = {
  allocate: {
    timeout: 0.1,
    hang: 0.04,
    partialTimeout: 0.1,
    partialHang: 0.04,
    partialFail: 0.03,
    fail: 0.06,
    retryable: 0.04,
    duplicateLost: 0.1,
  },
  release: { lostRetryable: 0.15, releasedThenTimeout: 0.1, hang: 0.03, releasedThenHang: 0.03 },
  status: { timeout: 0.1 },
};

/** Twice the allocate faults and three times the status time-outs (SIM_PROFILE=storm). */
export const STORM_CHAOS: ChaosRates = {
  allocate: {
    timeout: 0.2,
    hang: 0.05,
    partialTimeout: 0.2,
    partialHang: 0.05,
    partialFail: 0.05,
    fail: 0.05,
    retryable: 0.1,
    duplicateLost: 0.3,
  },
  // Lost releases stay as in DEFAULT_CHAOS: ten in a row would hit known core bug 2.
  release: DEFAULT_CHAOS.release,
  status: { timeout: 0.3 },
};

/** The fake cloud: machines by id, tagged with the resourceId they were built for. */
export class ChaosProvider {
  readonly machines = new Map<string, Machine>();
  /** How often each fault fired (for the run summary and the digest). */
  readonly stats: Record<string, number> = {};
  rates: ChaosRates;
  readonly #seed: number;
  readonly #keys = new Map<string, string>();
  readonly #calls = new Map<string, number>();
  readonly #built = new Map<string, number>();
  /** The last call rolled for, `key|op|n`: the job that is failing right now, if any. */
  #lastCall = 'none';

  constructor(seed: number, rates: ChaosRates = DEFAULT_CHAOS) {
    this.#seed = seed;
    this.rates = rates;
  }

  /** Tell the provider the stable name of a resource (owner.requestId), known once create answers. */
  register(resourceId: string, key: string): void {
    this.#keys.set(resourceId, key);
  }

  keyOf(resourceId: string): string {
    const key = this.#keys.get(resourceId);
    if (key === undefined) throw new Error(`chaos provider: resource ${resourceId} was never registered by the sim`);
    return key;
  }

  /** A fresh PRNG for the n-th `op` call about one resource. */
  roll(resourceId: string, op: string): Random {
    const key = this.keyOf(resourceId);
    const counter = `${key}|${op}`;
    const n = this.#calls.get(counter) ?? 0;
    this.#calls.set(counter, n + 1);
    this.#lastCall = `${counter}|${n}`;
    return new Random(`${this.#seed}|${counter}|${n}`);
  }

  /**
   * Backoff jitter for the job runner (`jobs.random`). A job only fails (and asks for
   * jitter) right after its own provider call, so deriving the value from that call keeps
   * it independent of the order the runner takes jobs in. That order can depend on the
   * core's random UUIDs: the expiry sweep enqueues the releases of resources that expire
   * together in the order of a HashAggregate over their ids.
   */
  jitter(): number {
    return new Random(`${this.#seed}|jitter|${this.#lastCall}`).next();
  }

  count(what: string): void {
    this.stats[what] = (this.stats[what] ?? 0) + 1;
  }

  liveFor(resourceId: string): Machine[] {
    return [...this.machines.values()].filter((m) => m.live && m.resourceId === resourceId);
  }

  live(): Machine[] {
    return [...this.machines.values()].filter((m) => m.live);
  }

  /** Build a machine for the resource, or return the live one (the provider dedupes by tag). */
  build(resourceId: string): Machine {
    const existing = this.liveFor(resourceId)[0];
    if (existing) return existing;
    const key = this.keyOf(resourceId);
    const n = (this.#built.get(key) ?? 0) + 1;
    this.#built.set(key, n);
    const r = new Random(`${this.#seed}|${key}|machine|${n}`);
    const costRoll = r.next();
    const machine: Machine = {
      id: `vm-${key.replaceAll('.', '-')}-${n}`,
      resourceId,
      key,
      live: true,
      state: r.chance(0.1) ? 'stopped' : 'running',
      ip: `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`,
      // Sometimes the actual cost differs from the quote: less, or more (the core caps it at the hold).
      ...(costRoll < 0.15 ? { cost: r.int(0, 12) } : costRoll < 0.2 ? { cost: 1_000_000 } : {}),
    };
    this.machines.set(machine.id, machine);
    this.count('machine.built');
    return machine;
  }

  /** Destroy what `allocation` names: its machine, or with externalId '' every machine tagged with it. */
  destroy(allocation: Pick<Allocation, 'resourceId' | 'externalId'>): number {
    const targets =
      allocation.externalId === ''
        ? this.liveFor(allocation.resourceId)
        : [this.machines.get(allocation.externalId)].filter((m): m is Machine => m?.live === true);
    for (const m of targets) m.live = false;
    if (targets.length > 0) this.count('machine.destroyed');
    return targets.length;
  }

  find(allocation: Pick<Allocation, 'resourceId' | 'externalId'>): Machine | undefined {
    if (allocation.externalId === '') return this.liveFor(allocation.resourceId)[0];
    const m = this.machines.get(allocation.externalId);
    return m?.live ? m : undefined;
  }
}

const timeout = (what: string) => new SlipwayError('PROVISIONER_TIMEOUT', `chaos: ${what} timed out`);

/** Never settles on its own: only the core's time-out (or a caller abort) ends it. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function toAllocation(m: Machine): Allocation {
  return {
    resourceId: m.resourceId,
    externalId: m.id,
    ip: m.ip,
    sshPort: 22,
    state: m.state,
    ...(m.cost !== undefined ? { cost: m.cost } : {}),
    data: { machineId: m.id },
  };
}

export function chaosProvisioner(provider: ChaosProvider): Provisioner {
  return {
    name: 'chaos',
    isDemo: true,

    async allocate(req, ctx) {
      const key = `${req.ownerId}.${req.requestId}`;
      if (provider.keyOf(req.resourceId) !== key) {
        throw new Error(`chaos provider: resource ${req.resourceId} is ${provider.keyOf(req.resourceId)}, not ${key}`);
      }
      const r = provider.roll(req.resourceId, 'allocate');
      const a = provider.rates.allocate;
      const existing = provider.liveFor(req.resourceId)[0];
      if (existing) {
        provider.count('allocate.duplicate');
        if (r.chance(a.duplicateLost)) {
          provider.count('allocate.duplicateLost');
          throw timeout('allocate (reply lost again)');
        }
        return toAllocation(existing);
      }
      const fault = r.weighted({
        timeout: a.timeout,
        hang: a.hang,
        partialTimeout: a.partialTimeout,
        partialHang: a.partialHang,
        partialFail: a.partialFail,
        fail: a.fail,
        retryable: a.retryable,
        ok: Math.max(
          0,
          1 - a.timeout - a.hang - a.partialTimeout - a.partialHang - a.partialFail - a.fail - a.retryable,
        ),
      });
      if (fault !== 'ok') provider.count(`allocate.${fault}`);
      switch (fault) {
        case 'timeout':
          throw timeout('allocate');
        case 'hang':
          return hang(ctx.signal);
        case 'retryable':
          throw new SlipwayError('PROVISIONER_FAILED', 'chaos: HTTP 503', { details: { retryable: true } });
        case 'fail':
          throw new Error('chaos: no capacity in this region');
        case 'partialTimeout':
          provider.build(req.resourceId);
          throw timeout('allocate (machine built, reply lost)');
        case 'partialHang':
          provider.build(req.resourceId);
          return hang(ctx.signal);
        case 'partialFail':
          provider.build(req.resourceId);
          throw new Error('chaos: machine built but boot failed');
        case 'ok':
          return toAllocation(provider.build(req.resourceId));
      }
    },

    async release(allocation, ctx) {
      const r = provider.roll(allocation.resourceId, 'release');
      const rel = provider.rates.release;
      const fault = r.weighted({
        lostRetryable: rel.lostRetryable,
        releasedThenTimeout: rel.releasedThenTimeout,
        hang: rel.hang,
        releasedThenHang: rel.releasedThenHang,
        ok: Math.max(0, 1 - rel.lostRetryable - rel.releasedThenTimeout - rel.hang - rel.releasedThenHang),
      });
      if (fault !== 'ok') provider.count(`release.${fault}`);
      switch (fault) {
        case 'lostRetryable':
          throw new SlipwayError('PROVISIONER_FAILED', 'lost', { details: { retryable: true } });
        case 'releasedThenTimeout':
          provider.destroy(allocation);
          throw timeout('release (done, reply lost)');
        case 'hang':
          return hang(ctx.signal);
        case 'releasedThenHang':
          provider.destroy(allocation);
          return hang(ctx.signal);
        case 'ok':
          provider.destroy(allocation); // releasing something unknown or gone succeeds
      }
    },

    async status(allocation): Promise<AllocationStatus> {
      const r = provider.roll(allocation.resourceId, 'status');
      if (r.chance(provider.rates.status.timeout)) {
        provider.count('status.timeout');
        throw timeout('status');
      }
      const m = provider.find(allocation);
      if (!m) return { state: 'gone' };
      return { state: m.state, ip: m.ip, sshPort: 22 };
    },
  };
}
