/**
 * createResource end to end, through the core and through GraphQL, on ONE app: the server's
 * `createApp` with the demo provisioner. The core path calls `app.slipway.resources.create`;
 * the GraphQL path sends the `createResource` mutation through `app.yoga.fetch` (no socket)
 * with a bearer JWT, so the difference between the two is the GraphQL layer itself: JWT
 * verify, parse, validate, execute, serialise. Both wait for the allocation job (the default).
 *
 * Every create is a distinct requestId. The server keeps its default rate limit
 * (createResource 5 per account per minute, counted in the database), so creates rotate
 * over many funded accounts, 5 each: the limiter's upsert is paid on both paths, and no
 * request is ever refused.
 */
import { randomBytes } from 'node:crypto';
import type { Actor, SlipwayStorage } from '@slipway/core';
import { type App, createApp, loadConfig, mintToken } from '@slipway/server';
import { sql } from 'kysely';
import { type LoadResult, type LoadSamples, runClosedLoop, sampleClosedLoop, summarize } from './load.js';

export type CreatePath = 'core' | 'graphql';

export interface CreateResourceRun {
  engine: 'postgres' | 'pglite';
  path: CreatePath;
  concurrency: number;
  result: LoadResult;
  accounts: number;
  /** The raw measurements behind `result` (to merge runs; left out of the JSON report). */
  samples?: LoadSamples[];
}

/** standard pricing: 512/512×5 + 10/10×2 + 1×10 = 17 credits a create. */
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 10 } as const;
const CREATES_PER_ACCOUNT = 5;
const CREDITS_PER_ACCOUNT = 1_000;
/** At least this many accounts per worker and measured second (= 50 creates/s per worker). */
const ACCOUNTS_PER_WORKER_SECOND = 10;
const ADMIN: Actor = { id: 'bench-admin', role: 'admin' };

const MUTATION = `mutation Create($input: CreateResourceInput!) {
  createResource(input: $input) {
    __typename
    ... on MutationCreateResourceSuccess { data { id status cost } }
    ... on Error { code message }
  }
}`;

interface GraphQLAnswer {
  data?: {
    createResource?: {
      __typename: string;
      data?: { id: string; status: string; cost: number };
      code?: string;
      message?: string;
    };
  } | null;
  errors?: Array<{ message: string }>;
}

interface BenchAccount {
  id: string;
  token: string;
}

/** Funded accounts handed out 5 creates at a time (the default rate limit). */
class AccountSupply {
  readonly #app: App;
  readonly #secret: string;
  readonly #prefix: string;
  readonly #accounts: BenchAccount[] = [];
  #slot = 0;

  constructor(app: App, secret: string, prefix: string) {
    this.#app = app;
    this.#secret = secret;
    this.#prefix = prefix;
  }

  get accounts(): number {
    return this.#accounts.length;
  }

  /** Fund `count` more accounts (8 at a time) before the clock starts. */
  async add(count: number): Promise<void> {
    const first = this.#accounts.length;
    let next = first;
    const worker = async () => {
      while (next < first + count) {
        const id = `${this.#prefix}-${next++}`;
        await this.#app.slipway.accounts.grant(ADMIN, { accountId: id, amount: CREDITS_PER_ACCOUNT });
        this.#accounts.push({ id, token: await mintToken({ secret: this.#secret, userId: id, expiresIn: '1h' }) });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  /** The next create's account and a fresh request number; undefined when all are used up. */
  take(): { account: BenchAccount; n: number } | undefined {
    const n = this.#slot++;
    const account = this.#accounts[Math.floor(n / CREATES_PER_ACCOUNT)];
    return account ? { account, n } : undefined;
  }
}

export interface CreateResourceOptions {
  engine: 'postgres' | 'pglite';
  storage: SlipwayStorage;
  concurrencies: readonly number[];
  paths: readonly CreatePath[];
  warmupMs: number;
  durationMs: number;
  progress: (line: string) => void;
  /** Keep the raw latencies in each run's `samples`. */
  keepSamples?: boolean;
  /** Distinguishes the accounts and request ids of repeated runs on one database. */
  label?: string;
  /** Called as each measured segment starts (after its warm-up and account funding). */
  onMeasure?: () => void;
  /**
   * Retention off: the scale section's seeded year of history is older than the retention
   * periods, and pruning it would run beside the creates being measured.
   */
  keepHistory?: boolean;
}

export async function benchCreateResource(opts: CreateResourceOptions): Promise<CreateResourceRun[]> {
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: secret,
    LOG_LEVEL: 'silent',
    PROVISIONER_DEMO: 'true',
    SLIPWAY_DATA_DIR: '/nonexistent/slipway-bench-never-used',
    ...(opts.keepHistory
      ? {
          SLIPWAY_RETENTION_EVENTS_DAYS: '0',
          SLIPWAY_RETENTION_RESOURCES_DAYS: '0',
          SLIPWAY_RETENTION_MACHINES_DAYS: '0',
        }
      : {}),
  });
  // As `slipway serve` runs it: demo provisioner, default rate limits, job loop and sweepers started.
  const app = await createApp(config, { database: opts.storage });
  const runs: CreateResourceRun[] = [];
  try {
    for (const concurrency of opts.concurrencies) {
      // Two paths run A B B A in half-length segments, so drift on a shared machine hits both alike.
      const order = opts.paths.length === 2 ? [opts.paths[0], opts.paths[1], opts.paths[1], opts.paths[0]] : opts.paths;
      const segments = order.length / opts.paths.length;
      const durationMs = opts.durationMs / segments;
      const samples = new Map<CreatePath, LoadSamples[]>();
      const accounts = new Map<CreatePath, number>();
      const warmRate = new Map<CreatePath, number>();
      for (const [i, path] of order.entries()) {
        if (path === undefined) continue;
        const tag = `${opts.label ?? ''}${opts.engine}-${path}-c${concurrency}-${i}`;
        const op = path === 'core' ? coreCreate(app, tag) : graphqlCreate(app, tag);
        await sql`vacuum`.execute(opts.storage.db);
        if (!warmRate.has(path)) {
          // Warm-up on its own accounts; its rate sizes the accounts of the measured runs.
          const warm = new AccountSupply(app, secret, `w-${tag}`);
          await warm.add(Math.max(20, 20 * concurrency));
          const warmup = await runClosedLoop({
            concurrency,
            warmupMs: 0,
            durationMs: opts.warmupMs,
            op: () => op(warm),
          });
          warmRate.set(path, Number.isFinite(warmup.opsPerSecond) ? warmup.opsPerSecond : 0);
        }
        const expected = (warmRate.get(path) ?? 0) * (durationMs / 1000);
        // Generous: on a loaded machine the warm-up rate is a poor guess. Running out early
        // only shortens the measured window (the rate is over the real window, and flagged).
        const floor = ACCOUNTS_PER_WORKER_SECOND * concurrency * (durationMs / 1000);
        const supply = new AccountSupply(app, secret, `m-${tag}`);
        await supply.add(Math.ceil(Math.max((4 * expected) / CREATES_PER_ACCOUNT, floor)));
        opts.onMeasure?.();
        const run = await sampleClosedLoop({ concurrency, warmupMs: 0, durationMs, op: () => op(supply) });
        if (run.exhausted) opts.progress(`  note: ${tag} used up its ${supply.accounts} accounts early`);
        samples.set(path, [...(samples.get(path) ?? []), run]);
        accounts.set(path, (accounts.get(path) ?? 0) + supply.accounts);
      }
      for (const path of opts.paths) {
        const result = summarize(samples.get(path) ?? []);
        opts.progress(
          `createResource ${opts.engine} ${path} c=${concurrency}: ${result.opsPerSecond.toFixed(0)}/s ` +
            `(p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms)`,
        );
        runs.push({
          engine: opts.engine,
          path,
          concurrency,
          result,
          accounts: accounts.get(path) ?? 0,
          ...(opts.keepSamples ? { samples: samples.get(path) ?? [] } : {}),
        });
      }
    }
  } finally {
    await app.close();
  }
  return runs;
}

type CreateOp = (supply: AccountSupply) => Promise<undefined | false>;

function coreCreate(app: App, tag: string): CreateOp {
  return async (supply) => {
    const next = supply.take();
    if (!next) return false;
    const resource = await app.slipway.resources.create(
      { id: next.account.id, role: 'user' },
      { name: `bench-${next.n}`, provisioner: 'demo', spec: SPEC, requestId: `${tag}-${next.n}` },
    );
    if (resource.status !== 'RUNNING') throw new Error(`core create answered ${resource.status}`);
    return undefined;
  };
}

function graphqlCreate(app: App, tag: string): CreateOp {
  return async (supply) => {
    const next = supply.take();
    if (!next) return false;
    const response = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${next.account.token}` },
      body: JSON.stringify({
        query: MUTATION,
        variables: {
          input: { name: `bench-${next.n}`, provisioner: 'demo', spec: SPEC, requestId: `${tag}-${next.n}` },
        },
      }),
    });
    const answer = (await response.json()) as GraphQLAnswer;
    const result = answer.data?.createResource;
    if (result?.__typename !== 'MutationCreateResourceSuccess' || result.data?.status !== 'RUNNING') {
      throw new Error(`GraphQL createResource answered ${JSON.stringify(answer).slice(0, 500)}`);
    }
    return undefined;
  };
}
