/**
 * The resource queries, one function each over a database handle or an open transaction
 * (`Executor`), so every flow reads and moves rows the same way. Locking reads (`forUpdate`)
 * are for use inside a transaction. No function here appends events: the flows do that, last
 * in their transactions.
 */

import { type Actor, isAdmin, type Resource, type ResourceStatus } from '../domain.js';
import { notFound, SlipwayError } from '../errors.js';
import { LIMITS } from '../limits/limits.js';
import type { Allocation } from '../provisioner/provisioner.js';
import { type Executor, jsonb } from '../storage/executor.js';
import { runStatement, statement } from '../storage/prepared.js';
import { RESOURCE_COLUMN_LIST, type ResourceRow, toResource } from './resource-mapper.js';

export interface ListResourcesQuery {
  status?: ResourceStatus[];
  provisioner?: string;
  /** Admins only: one owner's resources. */
  ownerId?: string;
  first?: number;
  /** Opaque cursor from a previous page. */
  after?: string;
}

export interface ResourcePage {
  items: Resource[];
  /** Cursor of each item, in order; pass one as `after` to continue after it. */
  cursors: string[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** resources.id is a uuid column: anything else would be a database error, and matches nothing. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

/** One page of what `actor` may see, newest first, continued by a keyset cursor. */
export async function listVisibleResources(
  db: Executor,
  actor: Actor,
  query: ListResourcesQuery = {},
): Promise<ResourcePage> {
  const { defaultSize, maxSize } = LIMITS.resourcePage;
  const first = Math.min(Math.max(query.first ?? defaultSize, 1), maxSize);
  let q = db
    .selectFrom('resources')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(first + 1);
  if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
  else if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
  if (query.status?.length) q = q.where('status', 'in', query.status);
  if (query.provisioner) q = q.where('provisioner', '=', query.provisioner);
  if (query.after) {
    const { createdAt, id } = decodeCursor(query.after);
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    );
  }
  const rows = await q.execute();
  const items = rows.slice(0, first).map(toResource);
  const last = items.at(-1);
  const cursors = items.map(resourceCursor);
  return { items, cursors, hasNextPage: rows.length > first, endCursor: last ? resourceCursor(last) : null };
}

/** The opaque keyset cursor of a resource in list order. */
export function resourceCursor(r: Resource): string {
  return Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new SlipwayError('VALIDATION_FAILED', 'after: not a cursor from this API', { details: { field: 'after' } });
  }
  return { createdAt, id };
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

/** RELEASING → RELEASED (or EXPIRED); false when the resource was no longer RELEASING. */
export async function markReleased(db: Executor, id: string, expired: boolean, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('resources')
    .set({ status: expired ? 'EXPIRED' : 'RELEASED', released_at: now, updated_at: now, error: null })
    .where('id', '=', id)
    .where('status', '=', 'RELEASING')
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** Note a problem on the resource (a release that keeps failing) without changing its status. */
export async function noteError(db: Executor, id: string, error: string, now: Date): Promise<void> {
  await db.updateTable('resources').set({ error, updated_at: now }).where('id', '=', id).execute();
}

/**
 * Claim up to `limit` resources past `expiresAt` for release (→ RELEASING), skipping rows
 * another replica holds. A machine that failed after it ran still exists at the provider:
 * it expires too, and so does one whose host went silent (UNKNOWN; its release waits for the host).
 */
export function claimExpired(
  db: Executor,
  now: Date,
  limit: number,
): Promise<Pick<ResourceRow, 'id' | 'owner_id' | 'expires_at'>[]> {
  return db
    .updateTable('resources')
    .set({ status: 'RELEASING', updated_at: now })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('resources')
        .select('id')
        .where((eb) =>
          eb.or([
            eb('status', 'in', ['RUNNING', 'STOPPED', 'UNKNOWN']),
            eb.and([eb('status', '=', 'FAILED'), eb('external_id', 'is not', null)]),
          ]),
        )
        .where('expires_at', '<=', now)
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'owner_id', 'expires_at'])
    .execute();
}
