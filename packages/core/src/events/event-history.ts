/**
 * The event log newest first, paged backwards: `last` events with a seq below `before`. The
 * keyset walks the same indexes as the oldest-first list (`(owner_id, seq)`, `(resource_id, seq)`
 * or the seq key), backwards: an admin's log opens on what just happened, and each page is a
 * bounded index scan however deep it goes (test/scale/list-plans.test.ts).
 */
import type { Actor } from '../domain.js';
import type { Executor } from '../storage/executor.js';
import { type EventType, eventPageQuery, type SlipwayEvent, toEvent } from './event-log.js';

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
  const { before, last, ...filter } = query;
  return eventPageQuery(db, actor, { order: 'desc', cursor: before, size: last, ...filter });
}

/** Events visible to `actor`, newest first. */
export async function listEventHistory(
  db: Executor,
  actor: Actor,
  query: EventHistoryQuery = {},
): Promise<SlipwayEvent[]> {
  return (await eventHistoryQuery(db, actor, query).execute()).map(toEvent);
}
