/** The benchmark's knobs, read from the environment (see bench/run.ts and docs/benchmarks.md). */
import type { PgbenchMode } from './pgbench.js';

export const SECTIONS = ['startup', 'admission', 'create-resource', 'expiry', 'qemu', 'scale'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  startup: boolean;
  startupRuns: number;
  startupIdleMs: number;
  admission: boolean;
  createResource: boolean;
  /** The scale section: this many resources expiring together (0: off). */
  expiryResources: number;
  /** The job runner's slots in the expiry section (the app's default: 8). */
  expiryConcurrency: number;
  /** `required`: BENCH_ONLY=qemu (missing QEMU is an error); `if-available`: the default run. */
  qemu: 'required' | 'if-available' | 'off';
  qemuRuns: number;
  pgbenchModes: PgbenchMode[];
  pgliteGraphql: boolean;
  scale: boolean;
  /** Resources at the largest size of the scale section (it also measures at 10k). */
  scaleResources: number;
  /** Timed repetitions of each read in the scale section. */
  scaleReps: number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const seconds = positive(env.BENCH_SECONDS, 5, 'BENCH_SECONDS');
  if (!Number.isInteger(seconds)) throw new Error(`BENCH_SECONDS: must be a whole number (pgbench -T), got ${seconds}`);
  const warmupSeconds = positive(env.BENCH_WARMUP_SECONDS, 1, 'BENCH_WARMUP_SECONDS', true);
  const only = env.BENCH_ONLY?.trim() || undefined;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
    throw new Error(`BENCH_ONLY: must be one of ${SECTIONS.join(', ')} (got ${JSON.stringify(only)})`);
  }
  const modes = (env.BENCH_PGBENCH_MODES ?? 'prepared,extended')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of modes) {
    if (m !== 'prepared' && m !== 'extended') {
      throw new Error(`BENCH_PGBENCH_MODES: ${JSON.stringify(m)} is not prepared or extended`);
    }
  }
  return {
    seconds,
    warmupSeconds,
    startup: only === undefined || only === 'startup',
    startupRuns: whole(env.BENCH_STARTUP_RUNS, 5, 'BENCH_STARTUP_RUNS'),
    startupIdleMs: positive(env.BENCH_STARTUP_IDLE_MS, 3000, 'BENCH_STARTUP_IDLE_MS', true),
    admission: only === undefined || only === 'admission',
    createResource: only === undefined || only === 'create-resource',
    expiryResources:
      only === undefined || only === 'expiry' ? whole(env.BENCH_EXPIRY_RESOURCES, 10_000, 'BENCH_EXPIRY_RESOURCES') : 0,
    expiryConcurrency: whole(env.BENCH_EXPIRY_CONCURRENCY, 8, 'BENCH_EXPIRY_CONCURRENCY'),
    qemu: only === 'qemu' ? 'required' : only === undefined ? 'if-available' : 'off',
    qemuRuns: whole(env.BENCH_QEMU_RUNS, 5, 'BENCH_QEMU_RUNS'),
    pgbenchModes: modes as PgbenchMode[],
    pgliteGraphql: env.BENCH_PGLITE_GRAPHQL === '1' || env.BENCH_PGLITE_GRAPHQL === 'true',
    scale: only === undefined || only === 'scale',
    scaleResources: whole(env.BENCH_SCALE_RESOURCES, 100_000, 'BENCH_SCALE_RESOURCES'),
    scaleReps: whole(env.BENCH_SCALE_REPS, 30, 'BENCH_SCALE_REPS'),
  };
}

function whole(raw: string | undefined, fallback: number, name: string): number {
  const n = positive(raw, fallback, name);
  if (!Number.isInteger(n)) throw new Error(`${name}: must be a whole number, got ${n}`);
  return n;
}

function positive(raw: string | undefined, fallback: number, name: string, zeroOk = false): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (Number.isFinite(n) && (n > 0 || (zeroOk && n === 0))) return n;
  throw new Error(`${name}: not a ${zeroOk ? 'non-negative' : 'positive'} number: ${raw}`);
}
