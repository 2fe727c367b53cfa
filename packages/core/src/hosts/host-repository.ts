/** The host queries: claim (register), heartbeat, stop, and what a host's live resources use. */
import { type Selectable, sql } from 'kysely';
import { TERMINAL_STATUSES } from '../domain.js';
import type { HostDescriptor } from '../provisioner/capabilities.js';
import { JOB_KINDS } from '../resources/jobs/resource-jobs.js';
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
  /** Resources that occupy the host (see `hostUsage`). */
  resources: number;
}

export const NO_USAGE: HostUsage = { vcpu: 0, memoryMb: 0, diskGb: 0, resources: 0 };

/**
 * A resource's vCPU or memory at its largest: its spec, a pending resize (the next boot takes
 * it) or one being requested (the provisioner may be reconfiguring it now).
 */
const largestSize = (field: 'vcpu' | 'memoryMb') =>
  sql<number>`greatest((spec->>${field})::float8,
    coalesce((pending_spec->>${field})::float8, 0),
    case when operation->>'action' = 'RESIZE' then coalesce((operation->'spec'->>${field})::float8, 0) else 0 end)`;

/** The hot-plugged disks of a resource (attaching, attached or detaching: each may be on the host). */
const deviceDiskGb = sql<number>`coalesce((select sum((x->>'sizeGb')::float8)
  from jsonb_array_elements(devices) as x), 0)`;

/**
 * What the resources on each host take: each resource at its largest size (spec, pending or
 * requested resize) with its hot-plugged disks, for every resource that may still have a
 * machine there. That is every resource not yet terminal, and two kinds of FAILED ones: a
 * machine that failed after it ran (external id set; it exists until its release, which
 * moves it to RELEASING and then RELEASED), and a failed allocation whose cleanup job has
 * not finished (a half-built machine may be there until it runs).
 */
export async function hostUsage(db: Executor, names: readonly string[]): Promise<Map<string, HostUsage>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .selectFrom('resources')
    .select([
      'host',
      sql<number>`coalesce(sum(${largestSize('vcpu')}), 0)::float8`.as('vcpu'),
      sql<number>`coalesce(sum(${largestSize('memoryMb')}), 0)::float8`.as('memory_mb'),
      sql<number>`coalesce(sum((spec->>'diskGb')::float8 + ${deviceDiskGb}), 0)::float8`.as('disk_gb'),
      sql<number>`count(*)::float8`.as('n'),
    ])
    .where('host', 'in', names)
    .where((eb) =>
      eb.or([
        eb('status', 'not in', TERMINAL_STATUSES),
        eb.and([
          eb('status', '=', 'FAILED'),
          eb.or([
            eb('external_id', 'is not', null),
            eb.exists(
              eb
                .selectFrom('jobs')
                .select('jobs.id')
                .whereRef('jobs.host', '=', 'resources.host')
                .where('jobs.kind', '=', JOB_KINDS.cleanup)
                .where('jobs.state', 'in', ['queued', 'running'])
                .where(sql<string>`jobs.payload->>'resourceId'`, '=', sql<string>`resources.id::text`),
            ),
          ]),
        ]),
      ]),
    )
    .groupBy('host')
    .execute();
  return new Map(
    rows.map((r) => [
      r.host ?? '',
      { vcpu: Number(r.vcpu), memoryMb: Number(r.memory_mb), diskGb: Number(r.disk_gb), resources: Number(r.n) },
    ]),
  );
}

/**
 * Whether `name` has not heartbeated since `before` (whatever its state), or has no row:
 * its replica is gone for at least that long.
 */
export async function hostSilentSince(db: Executor, name: string, before: Date): Promise<boolean> {
  const row = await db.selectFrom('hosts').select('heartbeat_at').where('name', '=', name).executeTakeFirst();
  return row === undefined || row.heartbeat_at < before;
}

export const capacityOf = (h: HostRow): HostCapacity => ({
  vcpu: h.vcpu,
  memoryMb: h.memory_mb,
  diskGb: h.disk_gb,
});
