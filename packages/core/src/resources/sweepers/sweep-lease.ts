/**
 * One replica sweeps at a time: the holder of a named lease row (`sweep_leases`), which it
 * renews at every tick. Another replica takes the lease only once it ran out (its holder
 * stopped or died) or was given up, so N replicas do not scan N times. A lease row rather
 * than a session advisory lock: a sweep spans many transactions and pool connections, and
 * PGlite has the table too. Sweeps stay safe on several replicas at once (SKIP LOCKED,
 * conditional updates): a lease that lapses mid-sweep costs a duplicate scan, never a wrong row.
 *
 * Every time here is the database's (`clock_timestamp()`), never a replica's: replicas whose
 * clocks disagree would otherwise each see the other's lease as run out (or never running out)
 * and sweep at once. The lease's length is an SQL interval from the database's now.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { SlipwayDatabase } from '../../storage/schema.js';

/** The database's time as the statement runs (not the transaction's start, as `now()` is). */
const dbNow = (): RawBuilder<Date> => sql<Date>`clock_timestamp()`;
const dbNowPlus = (ms: number): RawBuilder<Date> =>
  sql<Date>`clock_timestamp() + ${ms}::int8 * interval '1 millisecond'`;

/** Take or renew the lease `name` for `holder` for `ttlMs` of the database's time; true when `holder` has it. */
export async function takeSweepLease(
  db: Kysely<SlipwayDatabase>,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  const ms = Math.ceil(ttlMs);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`a sweep lease of ${ttlMs} ms`);
  const row = await db
    .insertInto('sweep_leases')
    .values({ name, holder, until: dbNowPlus(ms) })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, until: dbNowPlus(ms) })
        .where((w) => w.or([w('sweep_leases.holder', '=', holder), w('sweep_leases.until', '<', dbNow())])),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === holder;
}

/** Give the lease up (a clean shutdown), so another replica sweeps at its next tick. */
export async function dropSweepLease(db: Kysely<SlipwayDatabase>, name: string, holder: string): Promise<void> {
  await db.deleteFrom('sweep_leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** Who holds the lease now (admin and tests). */
export async function sweepLeaseHolder(db: Kysely<SlipwayDatabase>, name: string): Promise<string | null> {
  const row = await db
    .selectFrom('sweep_leases')
    .select('holder')
    .where('name', '=', name)
    .where('until', '>=', dbNow())
    .executeTakeFirst();
  return row?.holder ?? null;
}
