/**
 * Listing resources, newest first, a page at a time. Every list the API can ask for is one
 * index scan per status from the cursor on (migration 009 has an index for each filter,
 * ending in the list order), so a page costs the same on page 1 and page 500 and at 10k or
 * 1M rows:
 * - the cursor is a row comparison, `(created_at, id) < (c, i)`, which PostgreSQL turns into
 *   an index bound (the `a < c or (a = c and b < i)` form is a filter over every earlier row);
 * - a list of statuses is one ordered scan per status, each limited to the page, merged in
 *   order (`status in (...)` would read the whole match and sort it);
 * - a provisioner without statuses is every status, so it shares the provisioner+status index.
 * test/scale/list-plans.test.ts asserts these plans on a large table.
 */
import { type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { type Actor, isAdmin, RESOURCE_STATUSES, type Resource, type ResourceStatus } from '../domain.js';
import { SlipwayError } from '../errors.js';
import { LIMITS } from '../limits/limits.js';
import type { Executor } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { type ResourceRow, toResource } from './resource-mapper.js';

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
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One page of what `actor` may see, newest first, continued by a keyset cursor. */
export async function listVisibleResources(
  db: Executor,
  actor: Actor,
  query: ListResourcesQuery = {},
): Promise<ResourcePage> {
  const first = pageSize(query);
  const { rows } = await resourceListQuery(db, actor, query).execute(db);
  const items = rows.slice(0, first).map(toResource);
  const last = items.at(-1);
  const cursors = items.map(resourceCursor);
  return { items, cursors, hasNextPage: rows.length > first, endCursor: last ? resourceCursor(last) : null };
}

const pageSize = (query: ListResourcesQuery): number =>
  Math.min(Math.max(query.first ?? LIMITS.resourcePage.defaultSize, 1), LIMITS.resourcePage.maxSize);

/**
 * The query behind `listVisibleResources` (one row more than the page, to tell whether another
 * follows); exported so the plan test explains exactly what the API runs.
 */
export function resourceListQuery(db: Executor, actor: Actor, query: ListResourcesQuery = {}): RawBuilder<ResourceRow> {
  const limit = pageSize(query) + 1;
  const ownerId = isAdmin(actor) ? query.ownerId : actor.id;
  const cursor = query.after === undefined ? undefined : decodeCursor(query.after);
  let statuses: readonly (ResourceStatus | undefined)[] = [...new Set(query.status ?? [])];
  if (statuses.length === 0) statuses = query.provisioner === undefined ? [undefined] : RESOURCE_STATUSES;

  const branch = (
    status: ResourceStatus | undefined,
  ): SelectQueryBuilder<SlipwayDatabase, 'resources', ResourceRow> => {
    let q = db.selectFrom('resources').selectAll();
    if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
    if (query.provisioner !== undefined) q = q.where('provisioner', '=', query.provisioner);
    if (status !== undefined) q = q.where('status', '=', status);
    if (cursor) q = q.where(sql<boolean>`(created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  };
  if (statuses.length === 1) return sql<ResourceRow>`${branch(statuses[0])}`;
  const union = sql.join(
    statuses.map((s) => sql`(${branch(s)})`),
    sql` union all `,
  );
  return sql<ResourceRow>`select * from (${union}) as page order by created_at desc, id desc limit ${limit}`;
}

/** The opaque keyset cursor of a resource in list order. */
export function resourceCursor(r: Pick<Resource, 'createdAt' | 'id'>): string {
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
