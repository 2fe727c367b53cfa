/**
 * The resource queries, one function each over a database handle or an open transaction
 * (`Executor`), so every flow reads and moves rows the same way. Locking reads (`forUpdate`)
 * are for use inside a transaction. No function here appends events: the flows do that, last
 * in their transactions.
 */

import { type Actor, isAdmin } from '../domain.js';
import { notFound } from '../errors.js';
import type { Allocation } from '../provisioner/provisioner.js';
import { type Executor, jsonb } from '../storage/executor.js';
import { runStatement, statement } from '../storage/prepared.js';
import { UUID } from './resource-list.js';
import { RESOURCE_COLUMN_LIST, type ResourceRow } from './resource-mapper.js';

export {
  type ListResourcesQuery,
  listVisibleResources,
  type ResourcePage,
  resourceCursor,
  resourceListQuery,
} from './resource-list.js';

// Every create and every job reads rows by these: named statements (storage/prepared.ts).
const BY_ID = statement<ResourceRow>('resources.by_id', `select ${RESOURCE_COLUMN_LIST} from resources where id = $1`);
const BY_ID_FOR_UPDATE = statement<ResourceRow>(
  'resources.by_id_for_update',
  `select ${RESOURCE_COLUMN_LIST} from resources where id = $1 for update`,
);
const BY_REQUEST_ID = statement<ResourceRow>(
  'resources.by_request_id',
  `select ${RESOURCE_COLUMN_LIST} from resources where owner_id = $1 and request_id = $2`,
);

export async function resourceById(db: Executor, id: string, forUpdate = false): Promise<ResourceRow | undefined> {
  const [row] = await runStatement(db, forUpdate ? BY_ID_FOR_UPDATE : BY_ID, [id]);
  return row;
}

export async function resourceByRequestId(
  db: Executor,
  ownerId: string,
  requestId: string,
): Promise<ResourceRow | undefined> {
  const [row] = await runStatement(db, BY_REQUEST_ID, [ownerId, requestId]);
  return row;
}

/** The row if `actor` may see it (owner or admin); NOT_FOUND otherwise, never FORBIDDEN. */
export async function visibleResource(db: Executor, actor: Actor, id: string, forUpdate = false): Promise<ResourceRow> {
  if (!UUID.test(id)) throw notFound('resource', id);
  let q = db.selectFrom('resources').selectAll().where('id', '=', id);
  if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
  const row = await (forUpdate ? q.forUpdate() : q).executeTakeFirst();
  if (!row) throw notFound('resource', id);
  return row;
}

/** The rows of `ids` that `actor` may see, in no particular order; ids that are not uuids match nothing. */
export async function visibleResourcesByIds(
  db: Executor,
  actor: Actor,
  ids: readonly string[],
): Promise<ResourceRow[]> {
  const wanted = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (wanted.length === 0) return [];
  let q = db.selectFrom('resources').selectAll().where('id', 'in', wanted);
  if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
  return q.execute();
}

/** PROVISIONING → RUNNING/STOPPED with what the provisioner returned, at the charged cost; the row as stored. */
export async function markAllocated(
  db: Executor,
  id: string,
  allocation: Allocation,
  charged: number,
  now: Date,
): Promise<ResourceRow> {
  return db
    .updateTable('resources')
    .set({
      status: allocation.state === 'stopped' ? 'STOPPED' : 'RUNNING',
      external_id: allocation.externalId,
      ip: allocation.ip ?? null,
      ssh_port: allocation.sshPort ?? null,
      cockpit_url: allocation.cockpitUrl ?? null,
      allocation_data: allocation.data ? jsonb(allocation.data) : null,
      cost: charged,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** An allocation that will not complete → FAILED, with the error a retry of the request answers. */
export async function markFailed(
  db: Executor,
  id: string,
  failure: { error: string; code: string; cost: number; now: Date },
): Promise<void> {
  await db
    .updateTable('resources')
    .set({
      status: 'FAILED',
      error: failure.error,
      error_code: failure.code,
      cost: failure.cost,
      updated_at: failure.now,
    })
    .where('id', '=', id)
    .execute();
}

/** Note a problem on the resource (a release that keeps failing) without changing its status. */
export async function noteError(db: Executor, id: string, error: string, now: Date): Promise<void> {
  await db.updateTable('resources').set({ error, updated_at: now }).where('id', '=', id).execute();
}
