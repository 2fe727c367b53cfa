/**
 * Test databases for both engines. Every storage test runs against PGlite in-process and a
 * real PostgreSQL; each PostgreSQL test database is created for the test and dropped after.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LogConfig } from 'kysely';
import pg from 'pg';
import { type DatabaseEngine, openDatabase, type SlipwayStorage } from '../storage/database.js';

/** Server used to create throwaway databases; override with SLIPWAY_TEST_PG_URL. */
export const testPostgresUrl = (): string =>
  process.env.SLIPWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function postgresReachable(url = testPostgresUrl()): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The engines to run storage suites on: PGlite always; PostgreSQL when reachable, and
 * always under CI=true, so a missing server fails the run instead of skipping it.
 */
export async function testEngines(): Promise<DatabaseEngine[]> {
  if (process.env.CI === 'true' || process.env.CI === '1') return ['pglite', 'postgres'];
  if (await postgresReachable()) return ['pglite', 'postgres'];
  process.emitWarning(
    `PostgreSQL at ${testPostgresUrl()} is not reachable: running PGlite suites only (CI never skips)`,
  );
  return ['pglite'];
}

export interface TestStorage extends SlipwayStorage {
  /** The PostgreSQL URL of this test's own database (postgres engine only). */
  readonly url?: string;
}

/** An empty database `<prefix>_<random>` on the server at `admin`, and how to drop it. */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(
  prefix = 'slipway_test',
  admin = testPostgresUrl(),
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(admin, `create database ${name}`);
  let dropped = false;
  return {
    name,
    url: withDatabase(admin, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminQuery(admin, `drop database if exists ${name} with (force)`);
    },
  };
}

/** A fresh, migrated database on `engine`; `close()` also drops it. */
export async function createTestStorage(
  engine: DatabaseEngine,
  opts: { poolSize?: number; log?: LogConfig } = {},
): Promise<TestStorage> {
  const log = opts.log ? { log: opts.log } : {};
  if (engine === 'pglite') {
    const template = process.env.SLIPWAY_PGLITE_TEMPLATE;
    const loadDataDir = template ? new Blob([await readFile(template)]) : undefined;
    return openDatabase({ memory: true, ...(loadDataDir ? { loadDataDir } : {}), ...log });
  }
  const scratch = await createScratchDatabase();
  let storage: SlipwayStorage;
  try {
    storage = await openDatabase({ url: scratch.url, poolSize: opts.poolSize ?? 10, ...log });
  } catch (error) {
    await scratch.drop();
    throw error;
  }
  return {
    ...storage,
    url: scratch.url,
    async close() {
      await storage.close();
      await scratch.drop();
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
