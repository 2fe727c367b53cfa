/**
 * `npm run bench`: start-up time and memory of the built server next to `node -e 0` and a bare
 * PGlite open, admission throughput through the core next to pgbench running the same
 * SQL, createResource through GraphQL next to the core, and QEMU VMs through the plugin next to
 * bare QEMU and raw QMP. Prints markdown tables and
 * writes bench-results/<timestamp>.md and bench-results/latest.json.
 *
 * Knobs (environment):
 *   BENCH_SECONDS         measured seconds per cell (default 5)
 *   BENCH_WARMUP_SECONDS  warm-up before each core cell (default 1)
 *   BENCH_ONLY            startup | admission | create-resource | expiry | qemu | scale (default: all; qemu only where it runs)
 *   BENCH_EXPIRY_RESOURCES resources expiring together in the expiry section (default 10000)
 *   BENCH_SCALE_RESOURCES resources the scale section grows to, from 10k (default 100000; 1000000 for the full picture)
 *   BENCH_SCALE_REPS      timed repetitions of each read in the scale section (default 30)
 *   BENCH_STARTUP_RUNS    processes started per start-up kind (default 5)
 *   BENCH_QEMU_RUNS       VMs per allocate kind and attach/detach cycles per device (default 5)
 *   SLIPWAY_TEST_GUEST_DIR the test guest (default .cache/test-guest; scripts/ci-build-guest.sh)
 *   BENCH_STARTUP_IDLE_MS wait after ready before reading the server's idle RSS (default 3000)
 *   BENCH_PGBENCH_MODES   comma list of prepared, extended (default: both)
 *   BENCH_PGLITE_GRAPHQL  1: also createResource through GraphQL on PGlite (default: core only)
 *   PGBENCH               path to pgbench (default: PATH, then /usr/lib/postgresql/<v>/bin)
 *   SLIPWAY_TEST_PG_URL   server for the throwaway database (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@slipway/core';
import { admissionDriver, seedWallets } from './admission.js';
import { benchCreateResource, type CreateResourceRun } from './create-resource.js';
import {
  adminUrl,
  type BenchDatabase,
  checkLedgerInvariants,
  createBenchDatabase,
  type InvariantReport,
} from './database.js';
import { benchExpiry, type ExpiryResult } from './expiry.js';
import { type LoadSamples, summarize } from './load.js';
import { MINIMAL_CREATE_SCRIPT } from './minimal-create.js';
import { benchPeers, type PeerRow } from './peers.js';
import {
  findPgbench,
  type PgbenchMode,
  type PgbenchSegment,
  pgbenchVersion,
  runPgbench,
  summarizePgbench,
} from './pgbench.js';
import { benchQemu, defaultGuestDir, type QemuSection, qemuMissing } from './qemu.js';
import { type AdmissionRow, type BenchReport, renderMarkdown } from './report.js';
import { benchScale, type ScaleSection } from './scale.js';
import { type Settings, settingsFromEnv } from './settings.js';
import { benchStartup, startupMissing } from './startup.js';
import type { StartupSection } from './startup-report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WALLET_COUNTS = [1, 1000] as const;
const ADMISSION_CONCURRENCY = [1, 8, 32] as const;
const CREATE_CONCURRENCY = [1, 8] as const;

const started = performance.now();
const progress = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
let interrupted = false;

async function main(): Promise<void> {
  const settings = settingsFromEnv(process.env);
  // Fail before touching any database when the reference tool is missing.
  // (createResource's limit row is pgbench running the minimal create; the expiry section's is pgbench too.)
  const pgbench =
    (settings.admission && settings.pgbenchModes.length > 0) || settings.createResource || settings.expiryResources > 0
      ? findPgbench()
      : null;
  const missing = settings.startup ? startupMissing(ROOT) : [];
  if (missing.length > 0) {
    throw new Error(`the start-up section measures the build: ${missing.join(', ')} missing (run \`npm run build\`)`);
  }
  const guestDir = defaultGuestDir(ROOT);
  const qemuMissingReason = settings.qemu === 'off' ? undefined : qemuMissing(guestDir);
  if (qemuMissingReason && settings.qemu === 'required') throw new Error(`BENCH_ONLY=qemu: ${qemuMissingReason}`);
  const qemuSkipped = qemuMissingReason ?? null;
  if (qemuSkipped) progress(`qemu section skipped: ${qemuSkipped}`);
  const loadAverageBefore = loadavg();
  const date = new Date().toISOString();

  const needsDatabase = settings.startup || settings.admission || settings.createResource;
  const db = needsDatabase ? await createBenchDatabase() : null;
  const removeDrop = db ? onInterrupt(() => db.drop()) : () => {};
  if (db) progress(`bench database ${db.name}`);
  const admission: AdmissionRow[] = [];
  const createResource: CreateResourceRun[] = [];
  const peers: PeerRow[] = [];
  const minimalCreate: BenchReport['minimalCreate'] = [];
  let invariants: InvariantReport | null = null;
  let postgres: BenchReport['environment']['postgres'] = null;
  let startup: StartupSection | null = null;
  let qemu: QemuSection | null = null;
  let scale: ScaleSection | null = null;
  let expiry: ExpiryResult | null = null;
  try {
    postgres = db ? await db.serverInfo() : null;
    // First, while nothing of the benchmark's own load lingers.
    if (settings.startup) startup = await startupSection(settings);
    if (settings.qemu !== 'off' && !qemuSkipped) {
      qemu = await benchQemu({ guestDir, runs: settings.qemuRuns, progress, onInterrupt, loadavg });
    }
    if (db && settings.admission) {
      await seedWallets(db, Math.max(...WALLET_COUNTS));
      for (const wallets of WALLET_COUNTS) {
        for (const concurrency of ADMISSION_CONCURRENCY) {
          admission.push(await admissionCell(db, pgbench, settings, wallets, concurrency));
        }
      }
      if (pgbench) peers.push(...(await benchPeers(db, pgbench, { seconds: settings.seconds, progress })));
      invariants = await checkLedgerInvariants(db);
    }
    if (db && settings.createResource) {
      createResource.push(...(await createResourceSection(db, settings)));
      if (pgbench) minimalCreate.push(...(await minimalCreateRows(db, pgbench, settings)));
    }
    if (settings.scale) scale = await scaleSection(settings);
    if (settings.expiryResources > 0) expiry = await expirySection(settings, pgbench);
  } finally {
    removeDrop();
    await db?.drop();
  }

  const report: BenchReport = {
    environment: {
      date,
      commit: gitCommit(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      loadAverageBefore,
      loadAverageAfter: loadavg(),
      postgres,
      pgbench: pgbench ? await pgbenchVersion(pgbench) : null,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
    },
    admission,
    invariants,
    peers,
    createResource,
    minimalCreate,
    startup,
    qemu,
    qemuSkipped,
    scale,
    expiry,
  };
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);
  const outDir = join(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${report.environment.date.replaceAll(':', '-')}.md`);
  writeFileSync(file, `${markdown}\n`);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  progress(`wrote ${relative(ROOT, file)} and bench-results/latest.json`);
  const e = expiry?.invariants;
  if (e && (e.balanceMismatches > 0 || e.heldMismatches > 0)) {
    throw new Error('ledger invariants were violated during the expiry run (see the report)');
  }
  const i = invariants;
  if (scale && scale.invariantProblems.length > 0) {
    throw new Error(`ledger invariants were violated in the scale section: ${scale.invariantProblems[0]}`);
  }
  if (i && (i.balanceMismatches > 0 || i.heldMismatches > 0 || i.committed !== i.charges)) {
    throw new Error('ledger invariants were violated during the admission runs (see the report)');
  }
}

/** createResource on PostgreSQL (core and GraphQL), then on the embedded PGlite default. */
async function createResourceSection(db: BenchDatabase, settings: Settings): Promise<CreateResourceRun[]> {
  const timing = { warmupMs: settings.warmupSeconds * 1000, durationMs: settings.seconds * 1000 };
  const runs: CreateResourceRun[] = [];
  const pgStorage = await db.open(10);
  try {
    runs.push(
      ...(await benchCreateResource({
        engine: 'postgres',
        storage: pgStorage,
        concurrencies: CREATE_CONCURRENCY,
        paths: ['core', 'graphql'],
        ...timing,
        progress,
      })),
    );
  } finally {
    await pgStorage.close();
  }
  // The embedded default: PGlite persisted in a data directory, as `npm start` runs it.
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-pglite-'));
  try {
    const pglite = await openDatabase({ dataDir: join(dataDir, 'data') });
    try {
      runs.push(
        ...(await benchCreateResource({
          engine: 'pglite',
          storage: pglite,
          concurrencies: CREATE_CONCURRENCY,
          paths: settings.pgliteGraphql ? ['core', 'graphql'] : ['core'],
          ...timing,
          progress,
        })),
      );
    } finally {
      await pglite.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  return runs;
}

/** pgbench running the minimal create at each createResource concurrency (the limit row). */
async function minimalCreateRows(
  db: BenchDatabase,
  pgbench: string,
  settings: Settings,
): Promise<BenchReport['minimalCreate']> {
  const [seeded] = await db.query<{ n: number }>(`select count(*)::int as n from wallets where account_id = '1000'`);
  if (!seeded?.n) await seedWallets(db, 1000);
  const rows: BenchReport['minimalCreate'] = [];
  for (const concurrency of CREATE_CONCURRENCY) {
    await db.vacuum();
    const run = await runPgbench({
      pgbench,
      url: db.url,
      script: MINIMAL_CREATE_SCRIPT,
      wallets: 1000,
      concurrency,
      seconds: settings.seconds,
      mode: 'prepared',
    });
    if (run.failed > 0) throw new Error(`pgbench minimal create reported ${run.failed} failed transactions`);
    const result = summarizePgbench('prepared', [run]);
    progress(`minimal create (pgbench) c=${concurrency}: ${result.tps.toFixed(0)} tps`);
    rows.push({ concurrency, result });
  }
  return rows;
}

/** Its own database: the other sections' rows would blur the sizes it seeds. */
async function scaleSection(settings: Settings): Promise<ScaleSection> {
  const dbs: BenchDatabase[] = [];
  const removeDrop = onInterrupt(async () => {
    await Promise.allSettled(dbs.map((db) => db.drop()));
  });
  try {
    return await benchScale({
      createDatabase: async () => {
        const db = await createBenchDatabase();
        dbs.push(db);
        return db;
      },
      resources: settings.scaleResources,
      reps: settings.scaleReps,
      createSeconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      progress,
    });
  } finally {
    removeDrop();
    await Promise.allSettled(dbs.map((db) => db.drop()));
  }
}

/** 10,000 expiries in a database of their own, so nothing of the other sections is in the way. */
async function expirySection(settings: Settings, pgbench: string | null): Promise<ExpiryResult> {
  const db = await createBenchDatabase();
  const removeDrop = onInterrupt(() => db.drop());
  try {
    return await benchExpiry({
      db,
      resources: settings.expiryResources,
      concurrency: settings.expiryConcurrency,
      pgbench,
      progress,
    });
  } finally {
    removeDrop();
    await db.drop();
  }
}

async function startupSection(settings: Settings): Promise<StartupSection> {
  const loadAverageBefore = loadavg();
  const results = await benchStartup({
    root: ROOT,
    runs: settings.startupRuns,
    idleMs: settings.startupIdleMs,
    adminUrl: adminUrl(),
    progress,
  });
  return {
    runs: settings.startupRuns,
    idleMs: settings.startupIdleMs,
    loadAverageBefore,
    loadAverageAfter: loadavg(),
    results,
  };
}

/**
 * One cell: the core and each pgbench mode, in the mirrored order core, prepared, extended,
 * extended, prepared, core, each run for half the seconds, so a machine that gets busier or
 * quieter during the cell (other tenants, fsync latency) weighs on every column alike.
 */
async function admissionCell(
  db: BenchDatabase,
  pgbench: string | null,
  settings: Settings,
  wallets: number,
  concurrency: number,
): Promise<AdmissionRow> {
  type Engine = 'core' | PgbenchMode;
  const engines: Engine[] = ['core', ...(pgbench ? settings.pgbenchModes : [])];
  const halves = [Math.ceil(settings.seconds / 2), Math.floor(settings.seconds / 2)];
  const order = [
    ...engines.map((e) => ({ engine: e, seconds: halves[0] ?? 0 })),
    ...[...engines].reverse().map((e) => ({ engine: e, seconds: halves[1] ?? 0 })),
  ].filter((s) => s.seconds > 0);
  const driver = await admissionDriver(db, { wallets, concurrency });
  const coreSamples: LoadSamples[] = [];
  const pgbenchSegments: PgbenchSegment[] = [];
  try {
    for (const segment of order) {
      await db.vacuum();
      if (segment.engine === 'core') {
        const warmupMs = coreSamples.length === 0 ? settings.warmupSeconds * 1000 : 0;
        coreSamples.push(await driver.run({ warmupMs, durationMs: segment.seconds * 1000 }));
      } else if (pgbench) {
        const run = await runPgbench({
          pgbench,
          url: db.url,
          wallets,
          concurrency,
          seconds: segment.seconds,
          mode: segment.engine,
        });
        if (run.failed > 0) throw new Error(`pgbench ${segment.engine} reported ${run.failed} failed transactions`);
        pgbenchSegments.push(run);
      }
    }
  } finally {
    await driver.close();
  }
  const row: AdmissionRow = { wallets, concurrency, core: summarize(coreSamples), pgbench: {} };
  let line = `admission wallets=${wallets} c=${concurrency}: core ${row.core.opsPerSecond.toFixed(0)}/s`;
  for (const mode of settings.pgbenchModes) {
    const segments = pgbenchSegments.filter((s) => s.mode === mode);
    if (segments.length === 0) continue;
    const result = summarizePgbench(mode, segments);
    row.pgbench[mode] = result;
    line += `, pgbench ${mode} ${result.tps.toFixed(0)} tps`;
  }
  progress(line);
  return row;
}

/**
 * Ctrl-C runs every registered cleanup (dropping the bench database, killing the QEMU section's
 * VMs and removing its directory), then exits. Returns the function that unregisters `cleanup`.
 */
const cleanups = new Set<() => Promise<void>>();
function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
const interruptHandler = () => {
  interrupted = true;
  progress('interrupted: cleaning up (bench database, VMs)');
  // Dropping WITH (FORCE) kills the connections still in use; their errors are expected now.
  process.on('uncaughtException', () => {});
  void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).finally(() => process.exit(130));
};
process.once('SIGINT', interruptHandler);
process.once('SIGTERM', interruptHandler);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

main().catch((error: unknown) => {
  if (interrupted) return;
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
