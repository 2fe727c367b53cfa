/** The reaper's queries: sweeps recorded per scope, and sightings of orphans (for the grace period). */
import { type InsertObject, sql } from 'kysely';
import type { Executor } from '../../storage/executor.js';
import type { SlipwayDatabase } from '../../storage/schema.js';
import type { OrphanSweep, ReaperScope } from './reaper-settings.js';

/** `reaper_*.host` is '' for a provisioner that is not host-placed (a primary key cannot hold null). */
const hostKey = (scope: ReaperScope): string => scope.host ?? '';

/** Sightings upserted per statement: 6 binds each, well under PostgreSQL's 65,535. */
const SIGHTINGS_CHUNK = 1_000;

/** When the scope's last sweep started, or null before its first. */
export async function lastSweepStart(db: Executor, scope: ReaperScope): Promise<Date | null> {
  const row = await db
    .selectFrom('reaper_sweeps')
    .select('started_at')
    .where('provisioner', '=', scope.provisioner)
    .where('host', '=', hostKey(scope))
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.started_at ?? null;
}

export type SweepCounts = Pick<OrphanSweep, 'listed' | 'orphansSeen' | 'released' | 'markedGone' | 'error'>;

export async function recordSweep(
  db: Executor,
  scope: ReaperScope,
  at: { startedAt: Date; finishedAt: Date },
  counts: SweepCounts,
): Promise<void> {
  const values: InsertObject<SlipwayDatabase, 'reaper_sweeps'> = {
    provisioner: scope.provisioner,
    host: hostKey(scope),
    started_at: at.startedAt,
    finished_at: at.finishedAt,
    listed: counts.listed,
    orphans_seen: counts.orphansSeen,
    released: counts.released,
    marked_gone: counts.markedGone,
    error: counts.error,
  };
  await db.insertInto('reaper_sweeps').values(values).execute();
}

/** The newest sweep of every scope, by provisioner and host. */
export async function lastSweeps(db: Executor): Promise<OrphanSweep[]> {
  const rows = await db
    .selectFrom('reaper_sweeps')
    .selectAll()
    .distinctOn(['provisioner', 'host'])
    .orderBy('provisioner')
    .orderBy('host')
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => ({
    provisioner: r.provisioner,
    host: r.host === '' ? null : r.host,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    listed: r.listed,
    orphansSeen: r.orphans_seen,
    released: r.released,
    markedGone: r.marked_gone,
    error: r.error,
  }));
}

/** Delete sweeps started before `before`, except the newest of each scope (the admin query shows it). */
export async function pruneSweeps(db: Executor, before: Date): Promise<void> {
  await db
    .deleteFrom('reaper_sweeps')
    .where('started_at', '<', before)
    .where('id', 'not in', (eb) =>
      eb
        .selectFrom('reaper_sweeps')
        .select((s) => s.fn.max('id').as('id'))
        .groupBy(['provisioner', 'host']),
    )
    .execute();
}

export interface Sighting {
  externalId: string;
  firstSeenAt: Date;
  releasedAt: Date | null;
}

/**
 * Note the scope's orphans as seen at `now` (a new one is first seen now) and forget every
 * other sighting of the scope: a machine that stopped being an orphan, or vanished, starts
 * its grace period afresh if it comes back. Returns the sightings of `orphans`.
 */
export async function noteSightings(
  db: Executor,
  scope: ReaperScope,
  orphans: readonly { externalId: string; resourceId: string | null }[],
  now: Date,
): Promise<Sighting[]> {
  // One array parameter, however many orphans (a list of binds stops at 65,535).
  const keep = orphans.map((o) => o.externalId);
  await db
    .deleteFrom('reaper_sightings')
    .where('provisioner', '=', scope.provisioner)
    .where('host', '=', hostKey(scope))
    .where(sql<boolean>`not (external_id = any(${keep}::text[]))`)
    .execute();
  const sightings: Sighting[] = [];
  for (let at = 0; at < orphans.length; at += SIGHTINGS_CHUNK) {
    const rows = await db
      .insertInto('reaper_sightings')
      .values(
        orphans.slice(at, at + SIGHTINGS_CHUNK).map((o) => ({
          provisioner: scope.provisioner,
          host: hostKey(scope),
          external_id: o.externalId,
          resource_id: o.resourceId,
          first_seen_at: now,
          last_seen_at: now,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['provisioner', 'host', 'external_id'])
          .doUpdateSet((eb) => ({ last_seen_at: eb.ref('excluded.last_seen_at') })),
      )
      .returning(['external_id', 'first_seen_at', 'released_at'])
      .execute();
    for (const r of rows) {
      sightings.push({ externalId: r.external_id, firstSeenAt: r.first_seen_at, releasedAt: r.released_at });
    }
  }
  return sightings;
}

/** Mark the sighting released; false when it was already (another sweep released it first). */
export async function markSightingReleased(
  db: Executor,
  scope: ReaperScope,
  externalId: string,
  now: Date,
): Promise<boolean> {
  const res = await db
    .updateTable('reaper_sightings')
    .set({ released_at: now })
    .where('provisioner', '=', scope.provisioner)
    .where('host', '=', hostKey(scope))
    .where('external_id', '=', externalId)
    .where('released_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}
