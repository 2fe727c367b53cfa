/**
 * The event log: every state change writes one row in the same transaction as the change,
 * and a NOTIFY that is delivered when that transaction commits. Events carry a monotonic
 * `seq`; users see the events of their own resources, admins see all.
 */

import { type Selectable, sql } from 'kysely';
import { type Actor, isAdmin } from '../domain.js';
import { LIMITS } from '../limits/limits.js';
import type { Executor } from '../storage/executor.js';
import { runStatement, statement } from '../storage/prepared.js';
import type { EventsTable } from '../storage/schema.js';

export type EventType = 'vm' | 'system' | 'admin';
export type Severity = 'info' | 'warning' | 'critical';

export interface SlipwayEvent {
  seq: number;
  type: EventType;
  action: string;
  severity: Severity;
  actorId: string | null;
  ownerId: string | null;
  resourceId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface NewEvent {
  type: EventType;
  action: string;
  severity?: Severity;
  actorId?: string | null;
  ownerId?: string | null;
  resourceId?: string | null;
  data?: Record<string, unknown>;
}

export const EVENTS_CHANNEL = 'slipway_events';
/**
 * Transaction-scoped advisory lock taken before an event insert: it makes `seq` order equal
 * commit order, so a watcher that has seen seq N can never later find a smaller seq appear.
 * Event inserts come last in their transactions, so the lock is held only until commit.
 */
const EVENT_ORDER_LOCK = 0x5e9_1e55;

/**
 * The insert reads its one row from the materialised lock, so the lock is held before the
 * row's `seq` is drawn; NOTIFY (delivered at commit, so watchers never see an event whose
 * change was rolled back) reads the inserted row. One round trip instead of three.
 */
const APPEND_EVENT = statement<{ seq: number }>(
  'events.append',
  `with ordered as materialized (select pg_advisory_xact_lock($10::int8) as locked),
   entry as (
     insert into events (type, action, severity, actor_id, owner_id, resource_id, data, created_at)
     select $1, $2, $3, $4, $5, $6::uuid, $7::jsonb, $8::timestamptz from ordered
     returning seq
   )
   select seq, pg_notify($9, seq::text) from entry`,
);

/**
 * Many events in one statement, in the order given: one lock, one insert, one NOTIFY (the
 * stream reads from its cursor on any wake-up, so one is enough). A batch of 250 holds the
 * event-order lock for one round trip instead of 250.
 */
const APPEND_EVENTS = statement<{ seqs: string[] }>(
  'events.appendMany',
  `with ordered as materialized (select pg_advisory_xact_lock($4::int8) as locked),
   entry as (
     insert into events (type, action, severity, actor_id, owner_id, resource_id, data, created_at)
     select e.v->>'type', e.v->>'action', e.v->>'severity', e.v->>'actor_id', e.v->>'owner_id',
       (e.v->>'resource_id')::uuid, e.v->'data', $2::timestamptz
     from ordered, jsonb_array_elements($1::jsonb) with ordinality as e(v, n)
     order by e.n
     returning seq
   )
   select array_agg(seq::text order by seq) as seqs, pg_notify($3, max(seq)::text) from entry`,
);

export interface EventQuery {
  /**
   * Only events with seq greater than this. `seq` is a 64-bit column: a bigint reaches all of
   * it (a number is exact to 2^53, which no event log reaches in practice).
   */
  after?: number | bigint;
  first?: number;
  resourceId?: string;
  type?: EventType;
}

export class EventLog {
  /** One statement: ordered by the lock, inserted, announced at commit (in the caller's transaction, or its own). */
  async append(db: Executor, event: NewEvent): Promise<number> {
    const [row] = await runStatement(db, APPEND_EVENT, [
      event.type,
      event.action,
      event.severity ?? 'info',
      event.actorId ?? null,
      event.ownerId ?? null,
      event.resourceId ?? null,
      JSON.stringify(event.data ?? {}),
      new Date(),
      EVENTS_CHANNEL,
      EVENT_ORDER_LOCK,
    ]);
    if (!row) throw new Error('event insert returned no row');
    return row.seq;
  }

  /** Append `events` in one statement, in order; their seqs. */
  async appendMany(db: Executor, events: readonly NewEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    const rows = events.map((e) => ({
      type: e.type,
      action: e.action,
      severity: e.severity ?? 'info',
      actor_id: e.actorId ?? null,
      owner_id: e.ownerId ?? null,
      resource_id: e.resourceId ?? null,
      data: e.data ?? {},
    }));
    const [row] = await runStatement(db, APPEND_EVENTS, [
      JSON.stringify(rows),
      new Date(),
      EVENTS_CHANNEL,
      EVENT_ORDER_LOCK,
    ]);
    return (row?.seqs ?? []).map(Number);
  }

  /** Events visible to `actor`, oldest first. */
  async list(db: Executor, actor: Actor, query: EventQuery = {}): Promise<SlipwayEvent[]> {
    return (await this.listQuery(db, actor, query).execute()).map(toEvent);
  }

  /**
   * The query behind `list`, for the plan test: an index scan from the cursor on, by
   * (owner_id, seq), (resource_id, seq) or the seq key itself (docs/operations.md, "Indexes").
   */
  listQuery(db: Executor, actor: Actor, query: EventQuery = {}) {
    const { after, first, ...filter } = query;
    return eventPageQuery(db, actor, { order: 'asc', cursor: after, size: first, ...filter });
  }
}

/** One page of the events `actor` may see, from `cursor` on (exclusive), oldest or newest first. */
export function eventPageQuery(
  db: Executor,
  actor: Actor,
  page: {
    order: 'asc' | 'desc';
    cursor?: number | bigint | undefined;
    size?: number | undefined;
    resourceId?: string | undefined;
    type?: EventType | undefined;
  },
) {
  let q = db
    .selectFrom('events')
    .selectAll()
    .orderBy('seq', page.order)
    .limit(Math.min(Math.max(page.size ?? LIMITS.eventPage.defaultSize, 1), LIMITS.eventPage.maxSize));
  if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
  // As text cast to int8: exact over the whole column, whatever the driver does with a bigint.
  if (page.cursor !== undefined) {
    q = q.where('seq', page.order === 'asc' ? '>' : '<', sql<number>`${String(page.cursor)}::int8`);
  }
  if (page.resourceId !== undefined) q = q.where('resource_id', '=', page.resourceId);
  if (page.type !== undefined) q = q.where('type', '=', page.type);
  return q;
}

/** A stored event row as the API shows it. */
export function toEvent(r: Selectable<EventsTable>): SlipwayEvent {
  return {
    seq: r.seq,
    type: r.type,
    action: r.action,
    severity: r.severity,
    actorId: r.actor_id,
    ownerId: r.owner_id,
    resourceId: r.resource_id,
    data: r.data,
    createdAt: r.created_at,
  };
}
