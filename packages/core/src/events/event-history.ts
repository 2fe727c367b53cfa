/**
 * The event log newest first, paged backwards: `last` events with a seq below `before`. The
 * keyset walks the same indexes as the oldest-first list (`(owner_id, seq)`, `(resource_id, seq)`
 * or the seq key), backwards: an admin's log opens on what just happened, and each page is a
 * bounded index scan however deep it goes (test/scale/list-plans.test.ts).
 */
import { sql } from 'kysely';
import { type Actor, isAdmin } from '../domain.js';
import { LIMITS } from '../limits/limits.js';
import type { Executor } from '../storage/executor.js';
import type { EventType, SlipwayEvent } from './event-log.js';

export interface EventHistoryQuery {
  /** Only events with seq less than this (the smallest seq of the page before). 64-bit, like `after`. */
  before?: number | bigint;
  /** Page size: 1..LIMITS.eventPage.maxSize, default LIMITS.eventPage.defaultSize. */
  last?: number;
  resourceId?: string;
  type?: EventType;
}

/** The query behind `listEventHistory`, for the plan test. */
export function eventHistoryQuery(db: Executor, actor: Actor, query: EventHistoryQuery = {}) {
  let q = db
    .selectFrom('events')
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(Math.min(Math.max(query.last ?? LIMITS.eventPage.defaultSize, 1), LIMITS.eventPage.maxSize));
  if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
  // As text cast to int8, as the oldest-first list does: exact over the whole column.
  if (query.before !== undefined) q = q.where('seq', '<', sql<number>`${String(query.before)}::int8`);
  if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
  if (query.type !== undefined) q = q.where('type', '=', query.type);
  return q;
}

/** Events visible to `actor`, newest first. */
export async function listEventHistory(
  db: Executor,
  actor: Actor,
  query: EventHistoryQuery = {},
): Promise<SlipwayEvent[]> {
  const rows = await eventHistoryQuery(db, actor, query).execute();
  return rows.map((r) => ({
    seq: r.seq,
    type: r.type,
    action: r.action,
    severity: r.severity,
    actorId: r.actor_id,
    ownerId: r.owner_id,
    resourceId: r.resource_id,
    data: r.data,
    createdAt: r.created_at,
  }));
}
