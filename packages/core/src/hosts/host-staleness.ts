/**
 * Hosts that stopped heartbeating, and their return. A stale host's RUNNING/STOPPED
 * resources become UNKNOWN: not gone, not released, no credit moves; PROVISIONING and
 * RELEASING ones keep their status, since their pinned jobs wait for the host. One that turns
 * RUNNING/STOPPED after its host went stale (an allocation its replica committed just before
 * going silent) becomes UNKNOWN at the next sweep. When the host's replica registers again it
 * asks its provisioner about each UNKNOWN resource and restores it, while it holds the host.
 */
import type { Kysely } from 'kysely';
import type { ResourceStatus } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { EventService } from '../events/event-service.js';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import { statusOf } from '../resources/refresh-flow.js';
import { resourceSink, toAllocation } from '../resources/resource-mapper.js';
import type { Executor } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';

/** The statuses a stale host's resources leave for UNKNOWN. */
const LIVE: readonly ResourceStatus[] = ['RUNNING', 'STOPPED'];

export interface StalenessDeps {
  db: Kysely<SlipwayDatabase>;
  events: EventLog;
  clock: Clock;
}

/**
 * Mark every newly stale host `stale` and its live resources UNKNOWN, and the live resources
 * of hosts already stale too; returns how many hosts went stale. Any replica.
 */
export async function sweepStaleHosts(d: StalenessDeps, staleBefore: Date): Promise<number> {
  const candidates = await d.db
    .selectFrom('hosts')
    .select('name')
    .where('state', '!=', 'stale')
    .where('heartbeat_at', '<', staleBefore)
    .execute();
  let n = 0;
  for (const { name } of candidates) if (await markStale(d, name, staleBefore)) n += 1;
  // Cheap: few hosts are stale, and resources_host indexes (host, status).
  const late = await d.db
    .selectFrom('hosts')
    .innerJoin('resources', 'resources.host', 'hosts.name')
    .select('hosts.name')
    .distinct()
    .where('hosts.state', '=', 'stale')
    .where('resources.status', 'in', LIVE)
    .execute();
  for (const { name } of late) await markLateUnknown(d, name);
  return n;
}

async function markStale(d: StalenessDeps, name: string, staleBefore: Date): Promise<boolean> {
  return d.db.transaction().execute(async (trx) => {
    // Re-checked under the row lock: a heartbeat that landed meanwhile keeps the host up.
    const host = await trx
      .selectFrom('hosts')
      .selectAll()
      .where('name', '=', name)
      .where('state', '!=', 'stale')
      .where('heartbeat_at', '<', staleBefore)
      .forUpdate()
      .executeTakeFirst();
    if (!host) return false;
    await trx.updateTable('hosts').set({ state: 'stale' }).where('name', '=', name).execute();
    const marked = await markLiveUnknown(d, trx, name);
    await d.events.append(trx, {
      type: 'system',
      action: 'host.stale',
      severity: 'warning',
      data: {
        host: name,
        provisioner: host.provisioner,
        heartbeatAt: host.heartbeat_at.toISOString(),
        resources: marked,
      },
    });
    return true;
  });
}

/** Live resources on a host that is still stale (re-checked under its row lock) → UNKNOWN. */
async function markLateUnknown(d: StalenessDeps, name: string): Promise<void> {
  await d.db.transaction().execute(async (trx) => {
    const host = await trx
      .selectFrom('hosts')
      .select('name')
      .where('name', '=', name)
      .where('state', '=', 'stale')
      .forUpdate()
      .executeTakeFirst();
    if (host) await markLiveUnknown(d, trx, name);
  });
}

/** RUNNING/STOPPED resources of `host` → UNKNOWN, each with an event (appended last); returns how many. */
async function markLiveUnknown(d: StalenessDeps, trx: Executor, host: string): Promise<number> {
  const rows = await trx
    .selectFrom('resources')
    .select(['id', 'owner_id', 'status'])
    .where('host', '=', host)
    .where('status', 'in', LIVE)
    .forUpdate()
    .execute();
  if (rows.length === 0) return 0;
  await trx
    .updateTable('resources')
    .set({ status: 'UNKNOWN', updated_at: d.clock.now() })
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  for (const r of rows) {
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.status_changed',
      severity: 'warning',
      ownerId: r.owner_id,
      resourceId: r.id,
      data: { from: r.status, to: 'UNKNOWN', host, reason: 'host_stale' },
    });
  }
  return rows.length;
}

export interface RestoreDeps extends StalenessDeps {
  /** This replica's id: a resource is restored only while the host's row is up and held by it. */
  replicaId: string;
  registry: ProvisionerRegistry;
  eventService: EventService;
  logger: Logger;
}

/**
 * On the host's own replica: ask the provisioner about each UNKNOWN resource of `host` and
 * set its real status (RUNNING, STOPPED, or FAILED when the machine is gone), with an event.
 * One that cannot be asked now stays UNKNOWN for the next try. Returns how many came back.
 */
export async function restoreHostResources(
  d: RestoreDeps,
  host: string,
  opts: { signal?: AbortSignal } = {},
): Promise<number> {
  const rows = await d.db
    .selectFrom('resources')
    .selectAll()
    .where('host', '=', host)
    .where('status', '=', 'UNKNOWN')
    .execute();
  let restored = 0;
  for (const row of rows) {
    if (opts.signal?.aborted) break;
    try {
      const status = await d.registry
        .get(row.provisioner)
        .status(toAllocation(row), { signal: opts.signal, events: resourceSink(d.eventService, row) });
      const next = statusOf(status);
      const changed = await d.db.transaction().execute(async (trx) => {
        // Shares the lock the staleness sweep takes: a host marked stale meanwhile (or taken
        // over) restores nothing, so no resource turns RUNNING on a stale host.
        const held = await trx
          .selectFrom('hosts')
          .select('name')
          .where('name', '=', host)
          .where('replica_id', '=', d.replicaId)
          .where('state', '=', 'up')
          .forShare()
          .executeTakeFirst();
        if (!held) return 'host lost';
        const out = await trx
          .updateTable('resources')
          .set({
            status: next,
            updated_at: d.clock.now(),
            ...(next === 'FAILED' ? { error: status.message ?? `machine is ${status.state} at the provider` } : {}),
          })
          .where('id', '=', row.id)
          .where('status', '=', 'UNKNOWN') // released (or restored) meanwhile: leave it
          .executeTakeFirst();
        if (out.numUpdatedRows === 0n) return false;
        await d.events.append(trx, {
          type: 'vm',
          action: 'resource.status_changed',
          severity: next === 'FAILED' ? 'critical' : 'info',
          ownerId: row.owner_id,
          resourceId: row.id,
          data: { from: 'UNKNOWN', to: next, providerState: status.state, host, reason: 'host_returned' },
        });
        return true;
      });
      if (changed === 'host lost') break; // the next claim of the host restores them
      if (changed) restored += 1;
    } catch (error) {
      d.logger.warn('could not restore a resource of a returning host; it stays UNKNOWN', {
        host,
        resourceId: row.id,
        error: errorMessage(error),
      });
    }
  }
  return restored;
}
