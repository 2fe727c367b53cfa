/**
 * Which listed machines have no live resource behind them. A machine is backed when a resource
 * named by its tag (`resourceId`) or holding its external id (same provisioner) is still being
 * provisioned, runs, is stopped, is being released, or is UNKNOWN (its host went silent), or
 * failed after it ran on this very machine (its owner releases it). Anything else is an orphan:
 * no such resource, or one RELEASED, EXPIRED, GONE, or FAILED on another (or no) machine.
 */
import type { ResourceStatus } from '../../domain.js';
import type { InventoryItem } from '../../provisioner/capabilities.js';
import type { Executor } from '../../storage/executor.js';
import type { ResourceRow } from '../resource-mapper.js';
import type { ReaperScope } from './reaper-settings.js';

/** Statuses whose own jobs (or owner) look after the machine: never the reaper's. */
const BACKING: readonly ResourceStatus[] = ['PROVISIONING', 'RUNNING', 'STOPPED', 'RELEASING', 'UNKNOWN'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHUNK = 500;

type Candidate = Pick<ResourceRow, 'id' | 'owner_id' | 'status' | 'external_id' | 'provisioner'>;

export interface Orphan {
  readonly externalId: string;
  /** The tag the provider listed (any string), or null for an untagged machine. */
  readonly resourceId: string | null;
  /** The resource the tag names, when it exists (its status says why the machine is an orphan). */
  readonly resource: Pick<ResourceRow, 'id' | 'status'> | null;
}

/** The orphans among `items` (each external id once), read after the inventory was listed. */
export async function findOrphans(
  db: Executor,
  provisioner: string,
  items: readonly InventoryItem[],
): Promise<Orphan[]> {
  const unique = [...new Map(items.map((i) => [i.externalId, i])).values()];
  const orphans: Orphan[] = [];
  for (let at = 0; at < unique.length; at += CHUNK) {
    const chunk = unique.slice(at, at + CHUNK);
    const rows = await candidates(db, provisioner, chunk);
    for (const item of chunk) {
      const tagged = item.resourceId ? rows.find((r) => r.id === item.resourceId) : undefined;
      const holders = rows.filter((r) => r.provisioner === provisioner && r.external_id === item.externalId);
      if ([tagged, ...holders].some((r) => r !== undefined && backs(r, item))) continue;
      orphans.push({
        externalId: item.externalId,
        resourceId: item.resourceId ?? null,
        resource: tagged ? { id: tagged.id, status: tagged.status } : null,
      });
    }
  }
  return orphans;
}

function backs(row: Candidate, item: InventoryItem): boolean {
  return BACKING.includes(row.status) || (row.status === 'FAILED' && row.external_id === item.externalId);
}

function candidates(db: Executor, provisioner: string, items: readonly InventoryItem[]): Promise<Candidate[]> {
  // resources.id is a uuid column: a tag that is not one names no resource (and must not reach SQL).
  const ids = items.flatMap((i) => (i.resourceId && UUID.test(i.resourceId) ? [i.resourceId] : []));
  const externalIds = items.map((i) => i.externalId);
  return db
    .selectFrom('resources')
    .select(['id', 'owner_id', 'status', 'external_id', 'provisioner'])
    .where((eb) =>
      eb.or([
        ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
        eb.and([eb('provisioner', '=', provisioner), eb('external_id', 'in', externalIds)]),
      ]),
    )
    .execute();
}

/**
 * When the oldest allocation still in flight in the scope began, or null. An untagged machine
 * first seen after that may be this allocation's, not yet recorded: it is left alone until
 * every allocation that began before it was first seen has settled.
 */
export async function oldestAllocationInFlight(db: Executor, scope: ReaperScope): Promise<Date | null> {
  let q = db
    .selectFrom('resources')
    .select((eb) => eb.fn.min('created_at').as('since'))
    .where('provisioner', '=', scope.provisioner)
    .where('status', '=', 'PROVISIONING');
  if (scope.host !== null) q = q.where('host', '=', scope.host);
  const row = await q.executeTakeFirst();
  return row?.since ? new Date(row.since) : null;
}
