/** The host queries: claim (register), heartbeat, stop, and what a host's live resources use. */
import { type Selectable, sql } from 'kysely';
import { TERMINAL_STATUSES } from '../domain.js';
import type { HostDescriptor } from '../provisioner/capabilities.js';
import type { Executor } from '../storage/executor.js';
import type { HostsTable } from '../storage/schema.js';

export type HostRow = Selectable<HostsTable>;
export type HostCapacity = HostDescriptor['capacity'];

export interface HostClaim {
  host: HostDescriptor;
  provisioner: string;
  replicaId: string;
  now: Date;
  staleBefore: Date;
}

/**
 * Register (or re-register) `host` for this replica, in one statement: taken when the name is
 * new, already ours (same replica and provisioner), or its holder is no longer live (stopped,
 * stale, or silent since `staleBefore`). Undefined when another live replica holds it.
 */
export function claimHost(db: Executor, c: HostClaim): Promise<HostRow | undefined> {
  const { capacity } = c.host;
  return db
    .insertInto('hosts')
    .values({
      name: c.host.name,
      provisioner: c.provisioner,
      vcpu: capacity.vcpu,
      memory_mb: capacity.memoryMb,
      disk_gb: capacity.diskGb,
      replica_id: c.replicaId,
      started_at: c.now,
      heartbeat_at: c.now,
      state: 'up',
    })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet((eb) => ({
          provisioner: eb.ref('excluded.provisioner'),
          vcpu: eb.ref('excluded.vcpu'),
          memory_mb: eb.ref('excluded.memory_mb'),
          disk_gb: eb.ref('excluded.disk_gb'),
          // A replica re-registering after a lapse keeps its start time.
          started_at: sql`case when hosts.replica_id = excluded.replica_id then hosts.started_at else excluded.started_at end`,
          replica_id: eb.ref('excluded.replica_id'),
          heartbeat_at: eb.ref('excluded.heartbeat_at'),
          state: 'up',
        }))
        .where((eb) =>
          eb.or([
            eb.and([eb('hosts.replica_id', '=', c.replicaId), eb('hosts.provisioner', '=', c.provisioner)]),
            eb('hosts.state', '!=', 'up'),
            eb('hosts.heartbeat_at', '<', c.staleBefore),
          ]),
        ),
    )
    .returningAll()
    .executeTakeFirst();
}

/** Refresh the heartbeat of a host this replica holds and that is up; false otherwise. */
export async function heartbeatHost(db: Executor, name: string, replicaId: string, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('hosts')
    .set({ heartbeat_at: now })
    .where('name', '=', name)
    .where('replica_id', '=', replicaId)
    .where('state', '=', 'up')
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** A replica stopping cleanly lets go of its host (the row stays; it goes stale in time). */
export async function stopHost(db: Executor, name: string, replicaId: string): Promise<void> {
  await db
    .updateTable('hosts')
    .set({ state: 'stopped' })
    .where('name', '=', name)
    .where('replica_id', '=', replicaId)
    .where('state', '=', 'up')
    .execute();
}

export interface HostUsage extends HostCapacity {
  /** Live (non-terminal) resources on the host. */
  resources: number;
}

export const NO_USAGE: HostUsage = { vcpu: 0, memoryMb: 0, diskGb: 0, resources: 0 };

/** What the live resources of each host take: the specs of every resource not yet terminal. */
export async function hostUsage(db: Executor, names: readonly string[]): Promise<Map<string, HostUsage>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .selectFrom('resources')
    .select([
      'host',
      sql<number>`coalesce(sum((spec->>'vcpu')::float8), 0)::float8`.as('vcpu'),
      sql<number>`coalesce(sum((spec->>'memoryMb')::float8), 0)::float8`.as('memory_mb'),
      sql<number>`coalesce(sum((spec->>'diskGb')::float8), 0)::float8`.as('disk_gb'),
      sql<number>`count(*)::float8`.as('n'),
    ])
    .where('host', 'in', names)
    .where('status', 'not in', TERMINAL_STATUSES)
    .groupBy('host')
    .execute();
  return new Map(
    rows.map((r) => [
      r.host ?? '',
      { vcpu: Number(r.vcpu), memoryMb: Number(r.memory_mb), diskGb: Number(r.disk_gb), resources: Number(r.n) },
    ]),
  );
}

export const capacityOf = (h: HostRow): HostCapacity => ({
  vcpu: h.vcpu,
  memoryMb: h.memory_mb,
  diskGb: h.disk_gb,
});
