/**
 * The physical limit: pgbench, a C client with no JavaScript in the way, running the very
 * statements CreditLedger.reserve and CreditLedger.commit issue, in the same two
 * transactions and the same eight round trips per admission.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ADMISSION_AMOUNT } from './admission.js';
import { quantile } from './load.js';

const run = promisify(execFile);

/**
 * One pgbench "transaction" = one admission, as the core runs it (ledger-statements.ts):
 * the hold (one statement), then the charge (one statement), each its own transaction.
 * `:w` is the wallet ("1".."nw"); `\gset` carries the reservation id from one statement to
 * the next, as the core carries it in JavaScript. `HOLD_SQL` is the text the core runs.
 */
export const ADMISSION_SCRIPT = `\\set w random(1, :nw)
\\set amount ${ADMISSION_AMOUNT}
with held as (
  update wallets set held = held + :amount::int8, updated_at = now()
  where account_id = :w::text and balance - held >= :amount::int8
  returning account_id
), hold as (
  insert into reservations (id, account_id, amount, state, purpose, resource_id, expires_at, created_at)
  select gen_random_uuid(), account_id, :amount::int8, 'pending', 'allocation', null::uuid,
         now() + interval '15 minutes', now()
  from held
  returning id
)
select id from hold \\gset
with settled as (
  update reservations
  set state = 'committed', settled_at = now(), charged = least(coalesce(null::int8, amount), amount)
  where id = :id::uuid and state = 'pending'
  returning account_id, amount, charged, resource_id
), wallet as (
  update wallets w set balance = w.balance - s.charged, held = w.held - s.amount, updated_at = now()
  from settled s where w.account_id = s.account_id
), entry as (
  insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id, actor_id, note, created_at)
  select account_id, -charged, 'charge', :id::uuid, resource_id, null, null, now() from settled where charged > 0
)
select charged from settled;
`;

export type PgbenchMode = 'prepared' | 'extended';

export interface PgbenchResult {
  mode: PgbenchMode;
  /** Transactions ÷ seconds over all segments (pgbench's tps, without connection time). */
  tps: number;
  transactions: number;
  failed: number;
  /** From pgbench's per-transaction log (-l). */
  p50Ms: number;
  p99Ms: number;
}

/** One pgbench invocation, before segments are merged. */
export interface PgbenchSegment {
  mode: PgbenchMode;
  transactions: number;
  /** transactions ÷ tps: the run time pgbench measured, connection set-up excluded. */
  seconds: number;
  failed: number;
  latenciesMs: Float64Array;
}

export function summarizePgbench(mode: PgbenchMode, segments: readonly PgbenchSegment[]): PgbenchResult {
  const transactions = segments.reduce((n, s) => n + s.transactions, 0);
  const seconds = segments.reduce((n, s) => n + s.seconds, 0);
  const latencies = new Float64Array(segments.reduce((n, s) => n + s.latenciesMs.length, 0));
  let at = 0;
  for (const s of segments) {
    latencies.set(s.latenciesMs, at);
    at += s.latenciesMs.length;
  }
  latencies.sort();
  return {
    mode,
    tps: seconds > 0 ? transactions / seconds : Number.NaN,
    transactions,
    failed: segments.reduce((n, s) => n + s.failed, 0),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

export class PgbenchMissingError extends Error {
  constructor(problem = 'pgbench not found on PATH nor in /usr/lib/postgresql/*/bin.') {
    super(
      `${problem} pgbench is the reference the admission rows are compared with. ` +
        'It ships with the PostgreSQL server packages: on Debian/Ubuntu `apt-get install -y postgresql-contrib` ' +
        '(or postgresql-15), on macOS `brew install postgresql`. Or set PGBENCH=/path/to/pgbench. ' +
        '(BENCH_ONLY=create-resource skips the admission rows.)',
    );
    this.name = 'PgbenchMissingError';
  }
}

/** PGBENCH, else pgbench on PATH, else /usr/lib/postgresql/<newest>/bin/pgbench. */
export function findPgbench(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGBENCH) {
    try {
      accessSync(env.PGBENCH, constants.X_OK);
      return env.PGBENCH;
    } catch {
      throw new PgbenchMissingError(`PGBENCH=${env.PGBENCH} is not an executable file.`);
    }
  }
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'pgbench'));
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin', 'pgbench'));
  }
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  throw new PgbenchMissingError();
}

export async function pgbenchVersion(pgbench: string): Promise<string> {
  const { stdout } = await run(pgbench, ['--version']);
  return stdout.trim();
}

export interface PgbenchRun {
  pgbench: string;
  url: string;
  /** The script (default ADMISSION_SCRIPT); `-D nw=<wallets>` and `vars` are defined for it. */
  script?: string;
  vars?: Record<string, string | number>;
  wallets: number;
  concurrency: number;
  seconds: number;
  mode: PgbenchMode;
}

export async function runPgbench(opts: PgbenchRun): Promise<PgbenchSegment> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-pgbench-'));
  try {
    const script = join(dir, 'admission.pgb');
    await writeFile(script, opts.script ?? ADMISSION_SCRIPT);
    const args = [
      '-n', // no vacuum of pgbench's own tables (there are none)
      '-f',
      script,
      '-D',
      `nw=${opts.wallets}`,
      ...Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      '-c',
      String(opts.concurrency),
      '-j',
      String(Math.min(2, opts.concurrency)),
      '-T',
      String(opts.seconds),
      '-M',
      opts.mode,
      '-l', // one log line per transaction: the latencies for p50/p99
      `--log-prefix=${join(dir, 'latency')}`,
      opts.url,
    ];
    let stdout: string;
    try {
      ({ stdout } = await run(opts.pgbench, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }));
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`pgbench failed: ${(e.stderr || e.stdout || String(error)).trim().slice(0, 2000)}`);
    }
    const tps = matchNumber(stdout, /^tps = ([\d.]+)/m);
    const transactions = matchNumber(stdout, /^number of transactions actually processed: (\d+)/m);
    const failed = matchNumber(stdout, /^number of failed transactions: (\d+)/m, 0);
    const seconds = tps > 0 ? transactions / tps : opts.seconds;
    return { mode: opts.mode, transactions, seconds, failed, latenciesMs: await readLatencySamples(dir, 'latency') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function matchNumber(text: string, pattern: RegExp, fallback?: number): number {
  const m = pattern.exec(text);
  if (m?.[1] !== undefined) return Number(m[1]);
  if (fallback !== undefined) return fallback;
  throw new Error(`unexpected pgbench output (no ${pattern.source}):\n${text}`);
}

/** Per-transaction log lines: `client tx_no latency_us script_no epoch_s epoch_us`; ms, ascending. */
async function readLatencySamples(dir: string, prefix: string): Promise<Float64Array> {
  const values: number[] = [];
  for (const file of await readdir(dir)) {
    if (!file.startsWith(`${prefix}.`)) continue;
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      const micros = Number(line.split(' ')[2]);
      if (Number.isFinite(micros) && line.length > 0) values.push(micros / 1000);
    }
  }
  return Float64Array.from(values).sort();
}
