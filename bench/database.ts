/**
 * The throwaway PostgreSQL database the benchmark runs in: `slipway_bench_<random>` on the
 * server named by SLIPWAY_TEST_PG_URL (default: the local one), migrated once, dropped at
 * the end whatever happens.
 */
import { openDatabase, type SlipwayStorage } from '@slipway/core';
// The vitest-free entry of the test helpers: the bench runs outside vitest.
import { createScratchDatabase, type ScratchDatabase } from '@slipway/core/testing/databases';
import type { LogConfig } from 'kysely';
import pg from 'pg';

export const adminUrl = (): string => process.env.SLIPWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

export interface BenchDatabase {
  readonly name: string;
  /** URL of the benchmark database (for pgbench and the pools). */
  readonly url: string;
  /** A Kysely/pg storage on the database with `poolSize` connections (already migrated). */
  /** `log`: Kysely's query log (statement-timer.ts). */
  open(poolSize: number, log?: LogConfig): Promise<SlipwayStorage>;
  /** Run SQL outside any transaction (VACUUM, checks). */
  query<R extends pg.QueryResultRow>(text: string): Promise<R[]>;
  /** Reclaim the dead row versions of the previous run; autovacuum may be off. */
  vacuum(): Promise<void>;
  serverInfo(): Promise<ServerInfo>;
  drop(): Promise<void>;
}

const REPORTED_SETTINGS = ['max_connections', 'shared_buffers', 'synchronous_commit', 'fsync', 'autovacuum'];

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const admin = adminUrl();
  let scratch: ScratchDatabase;
  try {
    scratch = await createScratchDatabase('slipway_bench', admin);
  } catch (error) {
    throw new Error(
      `cannot create a database on ${redact(admin)} (${String(error)}). ` +
        'Start PostgreSQL or point SLIPWAY_TEST_PG_URL at a server where this user may CREATE DATABASE.',
    );
  }
  const { name, url, drop } = scratch;
  try {
    const storage = await openDatabase({ url, poolSize: 1 });
    await storage.close();
  } catch (error) {
    await drop();
    throw error;
  }

  const query = async <R extends pg.QueryResultRow>(text: string): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(text)).rows;
    } finally {
      await client.end();
    }
  };

  return {
    name,
    url,
    open: (poolSize, log) => openDatabase({ url, poolSize, ...(log ? { log } : {}) }, { migrate: false }),
    query,
    async vacuum() {
      await query('vacuum (analyze) wallets, reservations, ledger_entries, resources, jobs, events, rate_limits');
    },
    async serverInfo() {
      const [v] = await query<{ server_version: string }>('show server_version');
      const rows = await query<{ name: string; setting: string; unit: string | null }>(
        `select name, setting, unit from pg_settings where name in (${REPORTED_SETTINGS.map((s) => `'${s}'`).join(', ')})`,
      );
      const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
      return { version: v?.server_version ?? 'unknown', settings };
    },
    drop,
  };
}

/** Ledger invariants over every wallet: balance = Σ entries, held = Σ pending holds. */
export interface InvariantReport {
  wallets: number;
  balanceMismatches: number;
  heldMismatches: number;
  committed: number;
  charges: number;
}

export async function checkLedgerInvariants(db: BenchDatabase): Promise<InvariantReport> {
  const [row] = await db.query<{
    wallets: string;
    balance_mismatches: string;
    held_mismatches: string;
    committed: string;
    charges: string;
  }>(`
    select count(*) as wallets,
           count(*) filter (where w.balance <> coalesce(l.total, 0)) as balance_mismatches,
           count(*) filter (where w.held <> coalesce(r.total, 0)) as held_mismatches,
           (select count(*) from reservations where state = 'committed') as committed,
           (select count(*) from ledger_entries where kind = 'charge') as charges
    from wallets w
    left join (select account_id, sum(amount) as total from ledger_entries group by account_id) l using (account_id)
    left join (select account_id, sum(amount) as total from reservations where state = 'pending' group by account_id) r
      using (account_id)`);
  return {
    wallets: Number(row?.wallets ?? 0),
    balanceMismatches: Number(row?.balance_mismatches ?? 0),
    heldMismatches: Number(row?.held_mismatches ?? 0),
    committed: Number(row?.committed ?? 0),
    charges: Number(row?.charges ?? 0),
  };
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
