/**
 * `BENCH_ONLY=scale`: the reads users make most, and createResource, as the tables grow. The
 * table is seeded by SQL in steps (10k, then BENCH_SCALE_RESOURCES: 100k by default, 1M for
 * the full picture), 1,000 users with one owning 10%, about 5 events per resource, the ledger
 * invariants checked at every size. At each size: every list the API offers, first page and
 * deep page, through the core as a resolver calls it (median of BENCH_SCALE_REPS), then
 * createResource through the core for BENCH_SECONDS, with the statements it spends its time
 * in (to explain a create that slows as tables grow).
 */
import { performance } from 'node:perf_hooks';
import {
  type Actor,
  type EventQuery,
  type ListResourcesQuery,
  resourceCursor,
  type SlipwayDatabase,
  type SlipwayStorage,
} from '@slipway/core';
import { type App, createApp, loadConfig } from '@slipway/server';
import { type Kysely, sql } from 'kysely';
import { scaleInvariantProblems, seedScale } from '../test/support/scale-seed.js';
import { benchCreateResource } from './create-resource.js';
import type { BenchDatabase } from './database.js';
import { quantile } from './load.js';
import { type StatementTimes, statementTimer } from './statement-timer.js';

export interface ScaleReadRow {
  name: string;
  /** Median and 95th percentile ms per size, in `sizes` order. */
  p50Ms: number[];
  p95Ms: number[];
}

export interface ScaleCreate {
  size: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Shared-buffer block accesses per create (pg_stat_database: hits + reads), and of them reads. */
  blocksPerOp: number;
  readsPerOp: number;
  /** Where the database time goes: mean ms per create, by statement. */
  statements: StatementTimes;
}

export interface ScaleSection {
  sizes: number[];
  /** MB on disk (table + indexes + TOAST) of each big table, per size. */
  megabytes: Record<string, number[]>;
  seedSeconds: number[];
  reps: number;
  reads: ScaleReadRow[];
  creates: ScaleCreate[];
  invariantProblems: string[];
}

export interface ScaleOptions {
  /** A new throwaway database (one per size; the caller drops them via `onCreated`). */
  createDatabase: () => Promise<BenchDatabase>;
  resources: number;
  reps: number;
  createSeconds: number;
  warmupSeconds: number;
  progress: (line: string) => void;
}

export const scaleSizes = (resources: number): number[] => [...new Set([Math.min(10_000, resources), resources])];

/**
 * One database per size, seeded and timed for reads; then createResource on each, in the
 * mirrored order small, large, large, small (half the seconds each), so a machine that gets
 * busier or quieter meanwhile weighs on both sizes alike.
 */
export async function benchScale(opts: ScaleOptions): Promise<ScaleSection> {
  const sizes = scaleSizes(opts.resources);
  const section: ScaleSection = {
    sizes,
    megabytes: {},
    seedSeconds: [],
    reps: opts.reps,
    reads: [],
    creates: [],
    invariantProblems: [],
  };
  const dbs: BenchDatabase[] = [];
  for (const [column, size] of sizes.entries()) {
    const db = await opts.createDatabase();
    dbs.push(db);
    const storage = await db.open(10);
    try {
      const t0 = performance.now();
      const seed = await seedScale(storage.db, { resources: size });
      await db.vacuum();
      section.seedSeconds.push((performance.now() - t0) / 1000);
      opts.progress(
        `scale: seeded ${size.toLocaleString('en-US')} resources in ${section.seedSeconds.at(-1)?.toFixed(0)} s`,
      );
      const problems = await scaleInvariantProblems(storage.db);
      section.invariantProblems.push(...problems.map((p) => `${size}: ${p}`));
      await readsAt(storage, seed.bigOwner, opts, column, section.reads);
      for (const [table, mb] of Object.entries(await tableMegabytes(storage.db))) {
        section.megabytes[table] ??= [];
        (section.megabytes[table] as number[])[column] = mb;
      }
    } finally {
      await storage.close();
    }
  }
  const order = [...sizes.keys(), ...[...sizes.keys()].reverse()];
  const segments = new Map<number, CreateSegment[]>();
  for (const [i, column] of order.entries()) {
    const db = dbs[column] as BenchDatabase;
    const segment = await createSegment(db, `s${i}-`, opts);
    segments.set(column, [...(segments.get(column) ?? []), segment]);
  }
  for (const [column, size] of sizes.entries()) {
    section.creates.push(mergeSegments(size, segments.get(column) ?? []));
    const c = section.creates.at(-1);
    opts.progress(
      `scale: create at ${size}: p50 ${c?.p50Ms.toFixed(1)} ms, ${c?.blocksPerOp.toFixed(0)} blocks/create`,
    );
  }
  return section;
}

type Read = (app: App) => Promise<unknown>;

async function readsAt(
  storage: SlipwayStorage,
  bigOwner: string,
  opts: ScaleOptions,
  column: number,
  rows: ScaleReadRow[],
): Promise<void> {
  const app = await createApp(benchConfig(), { database: storage, start: false });
  try {
    for (const [name, read] of Object.entries(await readCases(storage.db, bigOwner, app))) {
      const times: number[] = [];
      for (let i = 0; i < 3 + opts.reps; i++) {
        const t = performance.now();
        await read(app);
        if (i >= 3) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const row = rows.find((r) => r.name === name) ?? { name, p50Ms: [], p95Ms: [] };
      if (!rows.includes(row)) rows.push(row);
      row.p50Ms[column] = quantile(times, 0.5);
      row.p95Ms[column] = quantile(times, 0.95);
    }
  } finally {
    await app.close();
  }
  opts.progress(`scale: ${rows.length} reads timed`);
}

/** Every list the API offers, as its resolvers call the core; deep pages start halfway down. */
async function readCases(db: Kysely<SlipwayDatabase>, bigOwner: string, app: App): Promise<Record<string, Read>> {
  const user: Actor = { id: bigOwner, role: 'user' };
  const admin: Actor = { id: 'scale-admin', role: 'admin' };
  const middle = async (ownerId?: string) => {
    const scoped = db
      .selectFrom('resources')
      .$if(ownerId !== undefined, (q) => q.where('owner_id', '=', ownerId ?? ''));
    const { n } = await scoped.select(sql<number>`count(*) / 2`.as('n')).executeTakeFirstOrThrow();
    const row = await scoped
      .select(['created_at', 'id'])
      .orderBy('created_at')
      .offset(Number(n))
      .limit(1)
      .executeTakeFirstOrThrow();
    return resourceCursor({ createdAt: row.created_at, id: row.id });
  };
  const ownDeep = await middle(bigOwner);
  const adminDeep = await middle();
  const page50 = await cursorAfterPages(app, admin, 49);
  const seq = await db
    .selectFrom('events')
    .select(sql<number>`(min(seq) + max(seq)) / 2`.as('mid'))
    .where('owner_id', '=', bigOwner)
    .executeTakeFirstOrThrow();
  const list = (actor: Actor, q: ListResourcesQuery) => (a: App) => a.slipway.resources.list(actor, q);
  const events = (actor: Actor, q: EventQuery) => (a: App) => a.slipway.eventService.list(actor, q);
  return {
    'own: first page': list(user, {}),
    'own: deep page': list(user, { after: ownDeep }),
    'own: status RUNNING': list(user, { status: ['RUNNING'] }),
    'own: status RUNNING, deep': list(user, { status: ['RUNNING'], after: ownDeep }),
    'own: status RUNNING,STOPPED,FAILED': list(user, { status: ['RUNNING', 'STOPPED', 'FAILED'] }),
    'own: provisioner pool': list(user, { provisioner: 'pool' }),
    'own: pool + RUNNING': list(user, { provisioner: 'pool', status: ['RUNNING'] }),
    'admin: first page': list(admin, {}),
    'admin: deep page (halfway)': list(admin, { after: adminDeep }),
    'admin: page 50': list(admin, { after: page50 }),
    'admin: status RUNNING': list(admin, { status: ['RUNNING'] }),
    'admin: status RUNNING,STOPPED': list(admin, { status: ['RUNNING', 'STOPPED'] }),
    'admin: provisioner pool': list(admin, { provisioner: 'pool' }),
    'admin: pool + RUNNING': list(admin, { provisioner: 'pool', status: ['RUNNING'] }),
    'admin: ownerId (big owner)': list(admin, { ownerId: bigOwner }),
    'events: own first page': events(user, {}),
    'events: own deep (after halfway)': events(user, { after: Number(seq.mid) }),
    'events: admin first page': events(admin, {}),
    me: (a) => a.slipway.accounts.me(user),
  };
}

async function cursorAfterPages(app: App, actor: Actor, pages: number): Promise<string | undefined> {
  let after: string | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await app.slipway.resources.list(actor, after ? { after } : {});
    after = page.endCursor ?? after;
  }
  return after;
}

interface CreateSegment {
  latenciesMs: number[];
  windowMs: number;
  ops: number;
  blocks: number;
  reads: number;
  statements: StatementTimes;
}

/** createResource through the core for half of BENCH_SECONDS, with its statements and block counts. */
async function createSegment(db: BenchDatabase, label: string, opts: ScaleOptions): Promise<CreateSegment> {
  const timer = statementTimer();
  const storage = await db.open(10, timer.log);
  let run: Awaited<ReturnType<typeof benchCreateResource>>[number] | undefined;
  const before = await blockCounts(db);
  try {
    [run] = await benchCreateResource({
      engine: 'postgres',
      storage,
      concurrencies: [1],
      paths: ['core'],
      warmupMs: opts.warmupSeconds * 1000,
      durationMs: (opts.createSeconds * 1000) / 2,
      progress: () => {},
      onMeasure: timer.reset,
      label,
      keepSamples: true,
      keepHistory: true,
    });
  } finally {
    // Closed connections have flushed their statistics: the block counts are complete.
    await storage.close();
  }
  if (!run) throw new Error('createResource did not run');
  const after = await blockCounts(db);
  const ops = run.result.ops;
  return {
    latenciesMs: (run.samples ?? []).flatMap((s) => s.latenciesMs),
    windowMs: run.result.seconds * 1000,
    ops,
    // Warm-up and account funding are in these counts too: a fixed share at every size.
    blocks: after.blocks - before.blocks,
    reads: after.reads - before.reads,
    statements: timer.perOp(ops),
  };
}

async function blockCounts(db: BenchDatabase): Promise<{ blocks: number; reads: number }> {
  const [row] = await db.query<{ hit: string; read: string }>(
    'select blks_hit as hit, blks_read as read from pg_stat_database where datname = current_database()',
  );
  return { blocks: Number(row?.hit ?? 0) + Number(row?.read ?? 0), reads: Number(row?.read ?? 0) };
}

function mergeSegments(size: number, segments: readonly CreateSegment[]): ScaleCreate {
  const latencies = segments.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const ops = segments.reduce((t, s) => t + s.ops, 0);
  const windowMs = segments.reduce((t, s) => t + s.windowMs, 0);
  const statements = new Map<string, { msPerOp: number; perOp: number }>();
  for (const s of segments) {
    for (const st of s.statements) {
      const acc = statements.get(st.key) ?? { msPerOp: 0, perOp: 0 };
      acc.msPerOp += (st.msPerOp * s.ops) / Math.max(ops, 1);
      acc.perOp += (st.perOp * s.ops) / Math.max(ops, 1);
      statements.set(st.key, acc);
    }
  }
  return {
    size,
    opsPerSecond: ops / (windowMs / 1000),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    blocksPerOp: segments.reduce((t, s) => t + s.blocks, 0) / Math.max(ops, 1),
    readsPerOp: segments.reduce((t, s) => t + s.reads, 0) / Math.max(ops, 1),
    statements: [...statements.entries()].map(([key, v]) => ({ key, ...v })).sort((a, b) => b.msPerOp - a.msPerOp),
  };
}

const BIG_TABLES = ['resources', 'events', 'ledger_entries', 'reservations', 'jobs'] as const;

async function tableMegabytes(db: Kysely<SlipwayDatabase>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of BIG_TABLES) {
    const { rows } = await sql<{ total: number; indexes: number }>`
      select pg_total_relation_size(${table}::regclass) / 1048576.0 as total,
        pg_indexes_size(${table}::regclass) / 1048576.0 as indexes`.execute(db);
    out[table] = Number(rows[0]?.total ?? 0);
    out[`${table} (indexes)`] = Number(rows[0]?.indexes ?? 0);
  }
  return out;
}

function benchConfig() {
  return loadConfig({
    SLIPWAY_JWT_SECRET: 'scale-bench-secret-scale-bench-secret',
    LOG_LEVEL: 'silent',
    PROVISIONER_DEMO: 'true',
    SLIPWAY_DATA_DIR: '/nonexistent/slipway-bench-never-used',
  });
}
