/**
 * One replica sweeps at a time: the holder of a named lease row (`sweep_leases`), which it
 * renews at every tick. Another replica takes the lease only once it ran out (its holder
 * stopped or died) or was given up, so N replicas do not scan N times. A lease row rather
 * than a session advisory lock: a sweep spans many transactions and pool connections, and
 * PGlite has the table too. Sweeps stay safe on several replicas at once (SKIP LOCKED,
 * conditional updates): a lease that lapses mid-sweep costs a duplicate scan, never a wrong row.
 */
import type { Kysely } from 'kysely';
import type { SlipwayDatabase } from '../../storage/schema.js';

/** Take or renew the lease `name` for `holder` until `now + ttlMs`; true when `holder` has it. */
export async function takeSweepLease(
  db: Kysely<SlipwayDatabase>,
  name: string,
  holder: string,
  now: Date,
  ttlMs: number,
): Promise<boolean> {
  const until = new Date(now.getTime() + ttlMs);
  const row = await db
    .insertInto('sweep_leases')
    .values({ name, holder, until })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, until })
        .where((w) => w.or([w('sweep_leases.holder', '=', holder), w('sweep_leases.until', '<', now)])),
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
export async function sweepLeaseHolder(db: Kysely<SlipwayDatabase>, name: string, now: Date): Promise<string | null> {
  const row = await db
    .selectFrom('sweep_leases')
    .select('holder')
    .where('name', '=', name)
    .where('until', '>=', now)
    .executeTakeFirst();
  return row?.holder ?? null;
}
