/** refresh: ask the provisioner what the machine is doing (no transaction open), then store it. */
import type { Kysely } from 'kysely';
import type { Actor, Resource, ResourceStatus } from '../domain.js';
import type { EventLog } from '../events/event-log.js';
import type { EventService } from '../events/event-service.js';
import type { LocalHosts } from '../hosts/local-hosts.js';
import type { AllocationStatus, Clock } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { resourceSink, toAllocation, toResource } from './resource-mapper.js';
import { visibleResource } from './resource-repository.js';

export interface RefreshDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  events: EventLog;
  eventService: EventService;
  clock: Clock;
  hosts: Pick<LocalHosts, 'serves'>;
}

export async function refreshResource(
  d: RefreshDeps,
  actor: Actor,
  id: string,
  opts: { signal?: AbortSignal },
): Promise<Resource> {
  const row = await visibleResource(d.db, actor, id);
  if (row.status !== 'RUNNING' && row.status !== 'STOPPED') return toResource(row);
  // Only the host's replica may ask a host-placed provisioner; its watcher keeps the status current.
  if (!d.hosts.serves(row.host)) return toResource(row);
  const status = await d.registry
    .get(row.provisioner)
    .status(toAllocation(row), { signal: opts.signal, events: resourceSink(d.eventService, row) });
  const next = statusOf(status);
  const updated = await d.db.transaction().execute(async (trx) => {
    const out = await trx
      .updateTable('resources')
      .set({
        status: next,
        ip: status.ip === undefined ? row.ip : status.ip,
        ssh_port: status.sshPort === undefined ? row.ssh_port : status.sshPort,
        cockpit_url: status.cockpitUrl === undefined ? row.cockpit_url : status.cockpitUrl,
        error: next === 'FAILED' ? (status.message ?? `machine is ${status.state} at the provider`) : row.error,
        updated_at: d.clock.now(),
      })
      .where('id', '=', id)
      .where('status', '=', row.status)
      .returningAll()
      .executeTakeFirst();
    if (out && out.status !== row.status) {
      await d.events.append(trx, {
        type: 'vm',
        action: 'resource.status_changed',
        severity: next === 'FAILED' ? 'critical' : 'info',
        actorId: actor.id,
        ownerId: row.owner_id,
        resourceId: id,
        data: { from: row.status, to: next, providerState: status.state },
      });
    }
    return out;
  });
  return toResource(updated ?? (await visibleResource(d.db, actor, id)));
}

/** What a provider's answer means for a machine that ran: it still runs, it is stopped, or it failed. */
export function statusOf(status: AllocationStatus): ResourceStatus {
  if (status.state === 'stopped') return 'STOPPED';
  return status.state === 'running' || status.state === 'provisioning' ? 'RUNNING' : 'FAILED';
}
