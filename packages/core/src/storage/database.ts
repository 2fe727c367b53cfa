/**
 * One code path for both engines: PGlite (PostgreSQL in WebAssembly, in-process) for the
 * embedded default, and real PostgreSQL through `pg` when a URL is given. Both return the
 * same Kysely instance type and the same notification API.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, type LogConfig, PGliteDialect, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import { migrateToLatest } from './migrations.js';
import { type ListenOptions, pgListen } from './pg-listener.js';
import { findTemplate, PGLITE_START_PARAMS } from './pglite-template.js';
import { namedStatementClient } from './prepared.js';
import type { SlipwayDatabase } from './schema.js';
import { unpackTemplate } from './unpack-template.js';

export type DatabaseConfig =
  /**
   * Real PostgreSQL. `namedStatements` (default true): run the hot statements as named,
   * prepared ones (prepared.ts); false behind a pooler that cannot keep them (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`).
   */
  (
    | { url: string; poolSize?: number; namedStatements?: boolean }
    /**
     * PGlite persisted in a directory (locked against a second process). A directory without a
     * database starts from `template`: a `dumpDataDir('gzip')` of a migrated PGlite with its
     * fingerprint beside it (see pglite-template.ts); default the one shipped in the package,
     * `false` runs initdb. A missing or outdated template falls back to initdb with a warning.
     */
    | { dataDir: string; template?: string | false }
    /** PGlite in memory; gone when closed. `loadDataDir` starts from a dump (fast for tests). */
    | { memory: true; loadDataDir?: Blob | File }
  ) & {
    /**
     * Kysely's query log: every statement the driver runs (built or raw, named or not), with its
     * duration, e.g. for slow-query logging; the benchmarks time statements with it.
     */
    log?: LogConfig;
  };

export type DatabaseEngine = 'postgres' | 'pglite';

export interface SlipwayStorage {
  readonly db: Kysely<SlipwayDatabase>;
  readonly engine: DatabaseEngine;
  /**
   * Subscribe to NOTIFY on `channel`; resolves to an unsubscribe function. On PostgreSQL a lost
   * connection is reopened with backoff, and `options.onReconnect` runs once LISTEN is back
   * (notifications sent meanwhile are lost: re-read what they would have announced).
   */
  listen(channel: string, onPayload: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  /** Resolves when the database answers a trivial query (health checks). */
  ping(): Promise<void>;
  /** The PGlite instance, when the engine is PGlite (for dumps in tests). */
  readonly pglite?: PGlite;
  close(): Promise<void>;
}

const INT8 = 20;
const NUMERIC = 1700;
/** Credits are integers well inside 2^53; both drivers hand them back as numbers. */
const toNumber = (v: string) => Number(v);

export async function openDatabase(config: DatabaseConfig, opts: { migrate?: boolean } = {}): Promise<SlipwayStorage> {
  const storage = 'url' in config ? await openPostgres(config) : await openPglite(config);
  if (opts.migrate !== false) {
    try {
      await migrateToLatest(storage.db as unknown as Kysely<unknown>);
    } catch (error) {
      await storage.close();
      throw error;
    }
  }
  return storage;
}

async function openPostgres(config: {
  url: string;
  poolSize?: number;
  namedStatements?: boolean;
  log?: LogConfig;
}): Promise<SlipwayStorage> {
  // Loaded only here: the embedded default never needs `pg`, and every start would pay for it.
  const { default: pg } = await import('pg');
  const types = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === INT8 || oid === NUMERIC
        ? toNumber
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    types,
    // Hot statements (prepared.ts) run as named statements: parsed and planned once per connection.
    Client: config.namedStatements === false ? pg.Client : namedStatementClient(pg.Client),
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<SlipwayDatabase>({ dialect: new PostgresDialect({ pool }), ...logOption(config) });
  const listeners = new Set<() => Promise<void>>();
  return {
    db,
    engine: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    async listen(channel, onPayload, options) {
      const stop = await pgListen(pg.Client, config.url, channel, onPayload, options);
      const unlisten = async () => {
        listeners.delete(unlisten);
        await stop();
      };
      listeners.add(unlisten);
      return unlisten;
    },
    async close() {
      await Promise.all([...listeners].map((unlisten) => unlisten()));
      await db.destroy();
    },
  };
}

async function openPglite(
  config: ({ dataDir: string; template?: string | false } | { memory: true; loadDataDir?: Blob | File }) & {
    log?: LogConfig;
  },
): Promise<SlipwayStorage> {
  const parsers = { [INT8]: toNumber, [NUMERIC]: toNumber };
  const startParams = [...PGLITE_START_PARAMS];
  let unlock = () => {};
  let pglite: PGlite;
  if ('dataDir' in config) {
    const dir = resolve(config.dataDir);
    mkdirSync(dirname(dir), { recursive: true });
    unlock = lockDataDir(dir);
    try {
      pglite = await openPgliteDir(dir, config.template, { parsers, startParams });
    } catch (error) {
      unlock();
      throw error;
    }
  } else {
    const load = config.loadDataDir ? { loadDataDir: config.loadDataDir } : {};
    pglite = await PGlite.create({ parsers, startParams, ...load });
  }
  const db = new Kysely<SlipwayDatabase>({ dialect: new PGliteDialect({ pglite }), ...logOption(config) });
  return {
    db,
    engine: 'pglite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    pglite,
    async listen(channel, onPayload) {
      const unsubscribe = await pglite.listen(channel, onPayload);
      return async () => unsubscribe();
    },
    async close() {
      try {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

/** `<dir>/pgdata`, created from the template when it holds no database. The caller holds the lock. */
async function openPgliteDir(
  dir: string,
  template: string | false | undefined,
  options: { parsers: Record<number, (v: string) => unknown>; startParams: string[] },
): Promise<PGlite> {
  const pgdata = join(dir, 'pgdata');
  const initializing = join(dir, 'pgdata.initializing');
  // A start that died while unpacking or in initdb left a half-made directory: make it again.
  if (existsSync(initializing)) rmSync(pgdata, { recursive: true, force: true });
  if (existsSync(join(pgdata, 'PG_VERSION'))) return PGlite.create(pgdata, options);
  writeFileSync(initializing, '');
  const usable = template === false ? undefined : usableTemplate(template);
  // Unpacked onto disk, not through PGlite's loadDataDir: see unpack-template.ts. No template: initdb.
  if (usable) {
    try {
      await unpackTemplate(usable, pgdata);
    } catch (error) {
      // A damaged template must not stop every later start: initdb makes the directory instead.
      process.emitWarning(`PGlite template ${usable} could not be unpacked (${String(error)}): running initdb`, {
        code: 'SLIPWAY_PGLITE_TEMPLATE',
      });
      rmSync(pgdata, { recursive: true, force: true });
    }
  }
  const pglite = await PGlite.create(pgdata, options);
  rmSync(initializing, { force: true });
  return pglite;
}

const warnedTemplates = new Set<string>();

function usableTemplate(file: string | undefined): string | undefined {
  const found = findTemplate(file);
  if (found.status === 'ok') return found.file;
  if (!warnedTemplates.has(found.file)) {
    warnedTemplates.add(found.file);
    process.emitWarning(
      `PGlite template not used (${found.reason}): running initdb for a new data directory, 3–8 s. ` +
        '`npm run build` writes the template.',
      { code: 'SLIPWAY_PGLITE_TEMPLATE' },
    );
  }
  return undefined;
}

const logOption = (config: { log?: LogConfig }) => (config.log ? { log: config.log } : {});
