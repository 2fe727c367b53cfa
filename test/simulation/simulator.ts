/**
 * The deterministic simulation driver: one seed → one fixed sequence of random operations
 * against a real core (PGlite, fake clock, chaos provisioner), with every invariant checked
 * after every step and the provider-side ones after quiescing.
 *
 * Everything random comes from seeded PRNGs (./prng.ts); time comes from FakeClock; jobs and
 * sweeps run only when an operation says so, one job at a time. The outcome of every step
 * is recorded with stable names (owner.requestId, never the core's random UUIDs), and the
 * digest of that record proves a seed replays identically.
 */
import { createHash } from 'node:crypto';
import {
  type Actor,
  type Clock,
  createSlipway,
  type FaultPoint,
  isSlipwayError,
  type ResourceStatus,
  type Slipway,
  setFaultHook,
  standardPricing,
} from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { ChaosProvider, type ChaosRates, chaosProvisioner, DEFAULT_CHAOS, STORM_CHAOS } from './chaos-provisioner.js';
import { type CheckContext, checkQuiesced, checkStep, InvariantViolation } from './invariants.js';
import { Random } from './prng.js';

export const HOLD_TTL_MS = 60_000;
export const LEASE_MS = 5_000;
export const BACKOFF = { baseMs: 10, maxMs: 1_000 };
export const RATE_LIMIT = { limit: 6, windowMs: 60_000 };
/**
 * Real milliseconds a hung provider call lasts before the core times it out. Safe however
 * small: a call that does not hang settles in microtasks, before any timer can fire.
 */
export const CALL_TIMEOUT_MS = 10;
const START = Date.UTC(2030, 0, 1);
const QUIESCE_ROUNDS = 40;

export class FakeClock implements Clock {
  #now: number;
  constructor(start = START) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

const USERS = ['u1', 'u2', 'u3', 'u4'] as const;
const INITIAL_CREDITS: Record<(typeof USERS)[number], number> = { u1: 200, u2: 200, u3: 120, u4: 30 };
const admin: Actor = { id: 'admin', role: 'admin' };
const SPECS = [
  { vcpu: 0.5, memoryMb: 256, diskGb: 10 }, // 10 credits
  { vcpu: 1, memoryMb: 512, diskGb: 0 }, // 15
  { vcpu: 2, memoryMb: 1024, diskGb: 20 }, // 34
  { vcpu: 4, memoryMb: 4096, diskGb: 50 }, // 90
] as const;
const NAMES = ['web', 'db', 'ci', 'gpu', 'batch'] as const;
const TTLS = [60, 120, 300, 900] as const;

export const OP_WEIGHTS = {
  create: 28,
  release: 14,
  refresh: 4,
  grant: 6,
  advance: 16,
  runJobs: 20,
  sweep: 8,
  crash: 4,
} as const;
export type Op = keyof typeof OP_WEIGHTS;

/** Fault rates and operation mix; pick one with SIM_PROFILE. */
export const PROFILES = {
  default: { chaos: DEFAULT_CHAOS, weights: OP_WEIGHTS },
  /** More faults, three times the crashes, more sweeps (holds expire under running jobs). */
  storm: { chaos: STORM_CHAOS, weights: { ...OP_WEIGHTS, crash: 14, sweep: 14 } },
} as const satisfies Record<string, { chaos: ChaosRates; weights: Readonly<Record<Op, number>> }>;
export type Profile = keyof typeof PROFILES;

interface CreateParams {
  name: string;
  spec: { vcpu: number; memoryMb: number; diskGb: number };
  ttlSeconds?: number;
}

interface SimResource {
  id: string;
  key: string;
  owner: string;
  requestId: string;
  params: CreateParams;
}

export interface SimOptions {
  seed: number;
  ops: number;
  profile?: Profile;
}

export interface SimResult {
  seed: number;
  ops: number;
  digest: string;
  history: string[];
  stats: Record<string, number>;
  summary: string;
}

/** A failed run: says which seed and step, what broke, the last operations and how to replay. */
export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure';
}

class OracleMismatch extends Error {}

/** Thrown from a core fault point: the work committed, the caller never hears back. */
class LostReply extends Error {
  constructor(point: FaultPoint) {
    super(`sim: reply lost at ${point}`);
  }
}

const canonical = (p: CreateParams) =>
  JSON.stringify([p.name, p.spec.vcpu, p.spec.memoryMb, p.spec.diskGb, p.ttlSeconds ?? null]);

const codeOf = (e: unknown): string => (isSlipwayError(e) ? e.code : `UNTYPED(${String(e)})`);

export class Simulation {
  readonly seed: number;
  readonly ops: number;
  readonly rng: Random;
  readonly clock = new FakeClock();
  readonly provider: ChaosProvider;
  readonly history: string[] = [];
  readonly granted = new Map<string, number>();
  readonly lastStatus = new Map<string, ResourceStatus>();
  /** Wallets as the last invariant check read them: the state every operation starts from. */
  readonly wallets = new Map<string, { balance: number; held: number }>();
  readonly byKey = new Map<string, SimResource>();
  readonly byId = new Map<string, SimResource>();
  /** requestIds each user has sent, with the parameters last sent under it. */
  readonly sent = new Map<string, Map<string, CreateParams>>();
  readonly #window = new Map<string, number>();
  #nextRequest = 0;
  #storage: TestStorage | undefined;
  #slipway: Slipway | undefined;
  step = 0;
  phase: 'setup' | 'ops' | 'quiesce' = 'setup';

  readonly profile: Profile;

  constructor(seed: number, ops: number, profile: Profile = 'default') {
    this.seed = seed;
    this.ops = ops;
    this.profile = profile;
    this.rng = new Random(`${seed}|ops`);
    this.provider = new ChaosProvider(seed, PROFILES[profile].chaos);
  }

  get storage(): TestStorage {
    if (!this.#storage) throw new Error('simulation not set up');
    return this.#storage;
  }

  get slipway(): Slipway {
    if (!this.#slipway) throw new Error('simulation not set up');
    return this.#slipway;
  }

  get ctx(): CheckContext {
    return {
      db: this.storage.db,
      provider: this.provider,
      granted: this.granted,
      lastStatus: this.lastStatus,
      wallets: this.wallets,
    };
  }

  async setup(): Promise<void> {
    this.#storage = await createTestStorage('pglite');
    this.#slipway = await createSlipway({
      database: this.#storage,
      provisioners: [chaosProvisioner(this.provider)],
      clock: this.clock,
      policy: { wait: false, holdTtlMs: HOLD_TTL_MS, allocateAttempts: 3, releaseAttempts: 10 },
      rateLimits: { createResource: RATE_LIMIT },
      runtime: { timeouts: { allocate: CALL_TIMEOUT_MS, release: CALL_TIMEOUT_MS, status: CALL_TIMEOUT_MS } },
      // One job at a time, so the order of provider calls and DB writes is fixed by the seed.
      jobs: { backoff: BACKOFF, leaseMs: LEASE_MS, concurrency: 1, random: () => this.provider.jitter() },
    });
    for (const user of USERS) await this.#grant(user, INITIAL_CREDITS[user]);
  }

  async close(): Promise<void> {
    await this.#slipway?.close();
    await this.#storage?.close();
  }

  /** Run the whole seed; throws SimulationFailure with a replay recipe on any violation. */
  async run(): Promise<SimResult> {
    await this.setup();
    this.phase = 'ops';
    await this.#check(() => checkStep(this.ctx));
    for (this.step = 1; this.step <= this.ops; this.step++) {
      const op = this.rng.weighted(PROFILES[this.profile].weights);
      let outcome: string;
      try {
        outcome = await this.#op(op);
      } catch (error) {
        this.history.push(`#${this.step} ${op} → ✗`);
        throw this.failure(
          error instanceof OracleMismatch
            ? `[oracle] ${error.message}`
            : `[untyped] ${op} threw an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
      this.history.push(`#${this.step} ${outcome}`);
      await this.#check(() => checkStep(this.ctx));
    }
    this.phase = 'quiesce';
    await this.quiesce();
    await this.#check(() => checkQuiesced(this.ctx));
    return this.result();
  }

  failure(problem: string): SimulationFailure {
    const tail = this.history.slice(-40);
    return new SimulationFailure(
      [
        `Simulation invariant violated: seed=${this.seed} step=${this.step}/${this.ops} phase=${this.phase} clock=${this.clock.now().toISOString()}`,
        problem,
        `Reproduce exactly: ${this.profile === 'default' ? '' : `SIM_PROFILE=${this.profile} `}SIM_SEED=${this.seed} SIM_OPS=${this.ops} npx vitest run test/simulation`,
        `Last ${tail.length} of ${this.history.length} steps:`,
        ...tail.map((h) => `  ${h}`),
      ].join('\n'),
    );
  }

  async #check(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (error instanceof InvariantViolation) throw this.failure(error.message);
      throw this.failure(`[untyped] invariant check failed to run: ${String(error)}`);
    }
  }

  #op(op: Op): Promise<string> {
    switch (op) {
      case 'create':
        return this.create();
      case 'release':
        return this.release();
      case 'refresh':
        return this.refresh();
      case 'grant':
        return this.grant();
      case 'advance':
        return this.advance();
      case 'runJobs':
        return this.runJobs();
      case 'sweep':
        return this.sweep();
      case 'crash':
        return this.crash();
    }
  }

  // ---- operations ---------------------------------------------------------------------

  #randomParams(): CreateParams {
    const r = this.rng;
    return {
      name: r.pick(NAMES),
      spec: { ...r.pick(SPECS) },
      ...(r.chance(0.4) ? { ttlSeconds: r.pick(TTLS) } : {}),
    };
  }

  #mutate(p: CreateParams): CreateParams {
    const r = this.rng;
    switch (r.int(0, 2)) {
      case 0:
        return { ...p, name: `${p.name}x` };
      case 1:
        return { ...p, spec: { ...p.spec, diskGb: p.spec.diskGb + 10 } };
      default:
        return p.ttlSeconds === undefined
          ? { ...p, ttlSeconds: r.pick(TTLS) }
          : { name: p.name, spec: p.spec, ...(p.ttlSeconds === 900 ? {} : { ttlSeconds: 900 }) };
    }
  }

  async create(): Promise<string> {
    const r = this.rng;
    const user = r.pick(USERS);
    const actor: Actor = { id: user, role: 'user' };
    const mine = this.sent.get(user) ?? new Map<string, CreateParams>();
    this.sent.set(user, mine);
    let kind = r.weighted({ fresh: 55, same: 20, different: 10, foreign: 15 });
    if ((kind === 'same' || kind === 'different') && mine.size === 0) kind = 'fresh';
    let requestId: string;
    let params: CreateParams;
    if (kind === 'same' || kind === 'different') {
      requestId = r.pick([...mine.keys()]);
      const before = mine.get(requestId) as CreateParams;
      params = kind === 'same' ? before : this.#mutate(before);
    } else if (kind === 'foreign') {
      const theirs = USERS.filter((u) => u !== user).flatMap((u) => [...(this.sent.get(u)?.keys() ?? [])]);
      requestId = theirs.length > 0 ? r.pick(theirs) : `r${++this.#nextRequest}`;
      params = mine.get(requestId) ?? this.#randomParams();
    } else {
      requestId = `r${++this.#nextRequest}`;
      params = this.#randomParams();
    }
    const key = `${user}.${requestId}`;
    if (!this.byKey.has(key)) mine.set(requestId, params);
    const input = {
      name: params.name,
      provisioner: 'chaos',
      spec: params.spec,
      requestId,
      ...(params.ttlSeconds !== undefined ? { ttlSeconds: params.ttlSeconds } : {}),
    };

    // The oracle: what the core must answer, worked out before asking it.
    const existing = this.byKey.get(key);
    let expected: string;
    let price = 0;
    if (existing) {
      const status = this.lastStatus.get(existing.id);
      const row = {
        status,
        error_code:
          status === 'FAILED'
            ? (
                await this.storage.db
                  .selectFrom('resources')
                  .select('error_code')
                  .where('id', '=', existing.id)
                  .executeTakeFirstOrThrow()
              ).error_code
            : null,
      };
      if (canonical(existing.params) !== canonical(params)) expected = 'IDEMPOTENCY_MISMATCH';
      else if (row.status === 'PROVISIONING') expected = 'REQUEST_IN_PROGRESS';
      else if (row.status === 'FAILED') expected = row.error_code ?? 'PROVISIONER_FAILED';
      else expected = `same:${row.status}`;
    } else {
      price = standardPricing(params.spec);
      const w = this.wallets.get(user) ?? { balance: 0, held: 0 };
      if ((this.#window.get(this.#windowKey(user)) ?? 0) >= RATE_LIMIT.limit) expected = 'RATE_LIMITED';
      else if (w.balance - w.held < price) expected = 'INSUFFICIENT_CREDITS';
      else expected = 'new:PROVISIONING';
    }

    // Sometimes the reply is lost after the create committed (a crash at the core's own fault
    // point): the client sees an error, the resource exists, and only a retry will tell.
    const lostReply = r.chance(0.08);
    let got: string;
    let createdId: string | undefined;
    try {
      const resource = await this.#withLostReply(lostReply ? 'create.after-reserve' : undefined, () =>
        this.slipway.resources.create(actor, input),
      );
      got = existing ? `same:${resource.status}` : `new:${resource.status}`;
      if (existing && resource.id !== existing.id) got = `another resource ${resource.id} (was ${existing.id})`;
      if (resource.ownerId !== user || resource.requestId !== requestId) got = `foreign resource ${resource.id}`;
      if (!existing) createdId = resource.id;
    } catch (error) {
      got = codeOf(error);
      if (error instanceof LostReply && !existing) {
        const row = await this.storage.db
          .selectFrom('resources')
          .select(['id', 'status'])
          .where('owner_id', '=', user)
          .where('request_id', '=', requestId)
          .executeTakeFirst();
        got = row ? `new:${row.status}` : 'reply lost, and no resource was created';
        createdId = row?.id;
      }
    }
    const label = `create ${key} ${kind}${existing ? ' (exists)' : ''}${lostReply ? ' (reply lost)' : ''} ${params.name}/${params.spec.vcpu}cpu${params.ttlSeconds ? `/ttl${params.ttlSeconds}` : ''}`;
    if (got !== expected) throw new OracleMismatch(`${label}: expected ${expected}, got ${got}`);
    if (createdId !== undefined) {
      const sim: SimResource = { id: createdId, key, owner: user, requestId, params };
      this.byKey.set(key, sim);
      this.byId.set(createdId, sim);
      this.provider.register(createdId, key);
      this.#window.set(this.#windowKey(user), (this.#window.get(this.#windowKey(user)) ?? 0) + 1);
    }
    return `${label} → ${got}${price ? ` price=${price}` : ''}`;
  }

  #windowKey(user: string): string {
    const now = this.clock.now().getTime();
    return `${user}|${Math.floor(now / RATE_LIMIT.windowMs)}`;
  }

  /** A resource of `user`, preferring ones that can still change. */
  #pickResource(user: string, prefer: readonly ResourceStatus[]): SimResource | undefined {
    const own = [...this.byKey.values()].filter((s) => s.owner === user);
    if (own.length === 0) return undefined;
    const preferred = own.filter((s) => prefer.includes(this.lastStatus.get(s.id) as ResourceStatus));
    return preferred.length > 0 && this.rng.chance(0.75) ? this.rng.pick(preferred) : this.rng.pick(own);
  }

  async release(): Promise<string> {
    const r = this.rng;
    const user = r.pick(USERS);
    const foreign = r.chance(0.1);
    const owner = foreign ? r.pick(USERS.filter((u) => u !== user)) : user;
    const target = this.#pickResource(owner, ['RUNNING', 'STOPPED', 'FAILED', 'PROVISIONING']);
    if (!target) return `release by ${user}: nothing to release`;
    const before = this.lastStatus.get(target.id) as ResourceStatus;
    const expected = foreign
      ? 'NOT_FOUND'
      : before === 'PROVISIONING'
        ? 'INVALID_STATE'
        : before === 'RUNNING' || before === 'STOPPED'
          ? 'RELEASING'
          : before === 'FAILED'
            ? 'RELEASED'
            : before;
    const lostReply = r.chance(0.08);
    let got: string;
    try {
      const res = await this.#withLostReply(lostReply ? 'release.after-claim' : undefined, () =>
        this.slipway.resources.release({ id: user, role: 'user' }, target.id),
      );
      got = res.id === target.id ? res.status : `another resource ${res.id}`;
    } catch (error) {
      got = codeOf(error);
      if (error instanceof LostReply) {
        const row = await this.storage.db
          .selectFrom('resources')
          .select('status')
          .where('id', '=', target.id)
          .executeTakeFirstOrThrow();
        got = row.status;
      }
    }
    const label = `release ${target.key} by ${user} (was ${before})${lostReply ? ' (reply lost)' : ''}`;
    if (got !== expected) throw new OracleMismatch(`${label}: expected ${expected}, got ${got}`);
    return `${label} → ${got}`;
  }

  /** Run `call` with the core's fault point `point` armed to "crash" (throw LostReply) once. */
  async #withLostReply<T>(point: FaultPoint | undefined, call: () => Promise<T>): Promise<T> {
    if (point === undefined) return call();
    setFaultHook((p) => {
      if (p !== point) return;
      this.provider.count(`reply-lost.${point}`);
      throw new LostReply(point);
    });
    try {
      return await call();
    } finally {
      setFaultHook(undefined);
    }
  }

  async refresh(): Promise<string> {
    const user = this.rng.pick(USERS);
    const target = this.#pickResource(user, ['RUNNING', 'STOPPED']);
    if (!target) return `refresh by ${user}: nothing to refresh`;
    const before = this.lastStatus.get(target.id) as ResourceStatus;
    const machine = this.provider.liveFor(target.id)[0];
    const live = before === 'RUNNING' || before === 'STOPPED';
    const expected = live ? (machine?.state === 'stopped' ? 'STOPPED' : 'RUNNING') : before;
    let got: string;
    try {
      got = (await this.slipway.resources.refresh({ id: user, role: 'user' }, target.id)).status;
    } catch (error) {
      got = codeOf(error);
    }
    const label = `refresh ${target.key} (was ${before})`;
    if (got !== expected && !(live && got === 'PROVISIONER_TIMEOUT')) {
      throw new OracleMismatch(`${label}: expected ${expected}, got ${got}`);
    }
    return `${label} → ${got}`;
  }

  async #grant(user: string, amount: number): Promise<string> {
    const w = this.wallets.get(user) ?? { balance: 0, held: 0 };
    const available = w.balance - w.held;
    const expected = amount > 0 || available + amount >= 0 ? 'ok' : 'INSUFFICIENT_CREDITS';
    let got: string;
    try {
      await this.slipway.accounts.grant(admin, { accountId: user, amount });
      got = 'ok';
      this.granted.set(user, (this.granted.get(user) ?? 0) + amount);
    } catch (error) {
      got = codeOf(error);
    }
    const label = `grant ${amount} to ${user} (available ${available})`;
    if (got !== expected) throw new OracleMismatch(`${label}: expected ${expected}, got ${got}`);
    return `${label} → ${got}`;
  }

  grant(): Promise<string> {
    const r = this.rng;
    const amount = r.chance(0.8) ? r.int(10, 150) : -r.int(5, 60);
    return this.#grant(r.pick(USERS), amount);
  }

  async advance(): Promise<string> {
    const r = this.rng;
    const size = r.weighted({ small: 40, medium: 35, large: 25 });
    const ms = size === 'small' ? r.int(1, 2_000) : size === 'medium' ? r.int(2_000, 30_000) : r.int(30_000, 400_000);
    this.clock.advance(ms);
    return `advance ${ms} ms`;
  }

  async runJobs(): Promise<string> {
    return `runJobs ran ${await this.slipway.runJobs()}`;
  }

  async sweep(): Promise<string> {
    const s = await this.slipway.sweep();
    return `sweep holds=${s.holdsReconciled} expired=${s.expired}`;
  }

  /**
   * A worker takes 1–2 due jobs and dies: the jobs stay `running` under its lease until the
   * clock passes it and another runner takes them over. Before dying it may have got as far
   * as the provider call (machine built / destroyed) without recording the result.
   */
  async crash(): Promise<string> {
    const r = this.rng;
    const db = this.storage.db;
    const now = this.clock.now();
    // Due jobs in a stable order: by run_at, then by what they are about — not by job id, which
    // for releases enqueued by one expiry sweep follows the core's random UUIDs.
    const due = (
      await db
        .selectFrom('jobs')
        .select(['id', 'kind', 'payload', 'attempts', 'max_attempts', 'run_at'])
        .where('state', '=', 'queued')
        .where('run_at', '<=', now)
        .execute()
    )
      .map((j) => ({ ...j, key: `${j.kind} ${this.byId.get(subjectOf(j.payload))?.key ?? '?'}` }))
      .sort((a, b) => a.run_at.getTime() - b.run_at.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, r.int(1, 2));
    if (due.length === 0) return 'crash: no due job to take';
    this.provider.count('worker.crashed');
    const parts: string[] = [];
    for (const job of due) {
      await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          attempts: eb('attempts', '+', 1),
          locked_by: 'sim:crashed-worker',
          locked_until: new Date(now.getTime() + LEASE_MS),
          updated_at: now,
        }))
        .where('id', '=', job.id)
        .where('state', '=', 'queued')
        .execute();
      const resourceId = subjectOf(job.payload);
      const sim = this.byId.get(resourceId);
      const row = await db
        .selectFrom('resources')
        .select(['status', 'external_id'])
        .where('id', '=', resourceId)
        .executeTakeFirst();
      let effect = 'died before the provider call';
      if (sim && row && r.chance(0.5)) {
        if (job.kind === 'resource.allocate' && row.status === 'PROVISIONING') {
          effect = `died after the provider built ${this.provider.build(resourceId).id}`;
        } else if (RELEASES.includes(job.kind) && row.status === 'RELEASING' && row.external_id) {
          effect = `died after the provider destroyed ${this.provider.destroy({ resourceId, externalId: row.external_id })}`;
        } else if (job.kind === 'resource.cleanup') {
          effect = `died after the provider destroyed ${this.provider.destroy({ resourceId, externalId: '' })}`;
        }
      }
      parts.push(`${job.kind} of ${sim?.key ?? '?'} (attempt ${job.attempts + 1}/${job.max_attempts}) ${effect}`);
    }
    return `crash: ${parts.join('; ')}`;
  }

  // ---- quiesce and results ------------------------------------------------------------

  async #unsettled(): Promise<string[]> {
    const db = this.storage.db;
    const jobs = await db
      .selectFrom('jobs')
      .select(['kind', 'state', 'payload', 'attempts', 'max_attempts', 'run_at', 'locked_until', 'last_error'])
      .where('state', 'in', ['queued', 'running'])
      .execute();
    const busy = await db
      .selectFrom('resources')
      .select(['id', 'status'])
      .where('status', 'in', ['PROVISIONING', 'RELEASING'])
      .orderBy('created_at')
      .execute();
    const lines = [
      ...jobs.map(
        (j) =>
          `job ${j.kind} of ${this.byId.get(subjectOf(j.payload))?.key ?? '?'} ${j.state} attempts=${j.attempts}/${j.max_attempts} run_at=${j.run_at.toISOString()} last_error=${j.last_error}`,
      ),
      ...busy.map((b) => `resource ${this.byId.get(b.id)?.key ?? b.id} still ${b.status}`),
    ];
    return lines.sort();
  }

  /** Run jobs and sweeps, moving the clock past every lease, backoff and hold TTL, until idle. */
  async quiesce(): Promise<void> {
    for (let round = 1; round <= QUIESCE_ROUNDS; round++) {
      if ((await this.#unsettled()).length === 0) {
        this.history.push(`quiesced after ${round - 1} rounds`);
        return;
      }
      this.step = this.ops + round;
      this.clock.advance(HOLD_TTL_MS + LEASE_MS + BACKOFF.maxMs + 1);
      // Checked after each action: every action moves a resource at most one lifecycle edge.
      const ran = await this.slipway.runJobs();
      await this.#check(() => checkStep(this.ctx));
      const s = await this.slipway.sweep();
      await this.#check(() => checkStep(this.ctx));
      const ranAfter = await this.slipway.runJobs();
      await this.#check(() => checkStep(this.ctx));
      this.history.push(
        `#quiesce-${round} runJobs ran ${ran}, sweep holds=${s.holdsReconciled} expired=${s.expired}, runJobs ran ${ranAfter}`,
      );
    }
    const left = await this.#unsettled();
    if (left.length > 0) {
      const dead = await this.storage.db
        .selectFrom('jobs')
        .select(['kind', 'payload', 'last_error'])
        .where('state', '=', 'dead')
        .orderBy('id')
        .execute();
      throw this.failure(
        [
          `[quiesce] not idle after ${QUIESCE_ROUNDS} rounds:`,
          ...left.map((l) => `  ${l}`),
          'dead jobs:',
          ...dead.map((d) => `  ${d.kind} of ${this.byId.get(subjectOf(d.payload))?.key ?? '?'}: ${d.last_error}`),
        ].join('\n'),
      );
    }
  }

  async result(): Promise<SimResult> {
    const db = this.storage.db;
    const resources = await db.selectFrom('resources').select(['id', 'status', 'cost', 'external_id']).execute();
    const wallets = await db
      .selectFrom('wallets')
      .select(['account_id', 'balance', 'held'])
      .orderBy('account_id')
      .execute();
    const finalState = [
      ...resources
        .map((r) => `${this.byId.get(r.id)?.key ?? r.id}=${r.status}/${r.cost}/${r.external_id ?? '-'}`)
        .sort(),
      ...wallets.map((w) => `${w.account_id}:${w.balance}/${w.held}`),
      ...this.provider
        .live()
        .map((m) => m.id)
        .sort(),
      JSON.stringify(Object.entries(this.provider.stats).sort()),
      this.clock.now().toISOString(),
    ];
    const digest = createHash('sha256')
      .update([...this.history, ...finalState].join('\n'))
      .digest('hex');
    const count = (s: string) => resources.filter((r) => r.status === s).length;
    const actions = await db
      .selectFrom('events')
      .select(['action', db.fn.countAll<number>().as('n')])
      .where('action', 'in', [
        'resource.hold_expired',
        'resource.failed',
        'resource.expired',
        'resource.release_failed',
      ])
      .groupBy('action')
      .orderBy('action')
      .execute();
    const stats = { ...this.provider.stats };
    const summary =
      `seed=${this.seed} ops=${this.ops} profile=${this.profile} resources=${resources.length} ` +
      `(RUNNING ${count('RUNNING')}, STOPPED ${count('STOPPED')}, FAILED ${count('FAILED')}, RELEASED ${count('RELEASED')}, EXPIRED ${count('EXPIRED')}) ` +
      `events=${JSON.stringify(Object.fromEntries(actions.map((a) => [a.action, Number(a.n)])))} ` +
      `faults=${JSON.stringify(Object.fromEntries(Object.entries(stats).sort()))} digest=${digest.slice(0, 12)}`;
    return { seed: this.seed, ops: this.ops, digest, history: [...this.history], stats, summary };
  }
}

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const sim = new Simulation(opts.seed, opts.ops, opts.profile);
  try {
    return await sim.run();
  } finally {
    await sim.close();
  }
}

/** Job kinds that release: one resource's, or a batch of expired ones' (the first stands for the batch here). */
const RELEASES = ['resource.release', 'resource.expire'];

/** The resource a job is about: its `resourceId`, or the first of an expiry batch's `resourceIds`. */
function subjectOf(payload: Record<string, unknown>): string {
  const ids = payload.resourceIds;
  return String(Array.isArray(ids) ? ids[0] : payload.resourceId);
}
