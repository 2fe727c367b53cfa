/**
 * The event log: every state change writes one row in the same transaction as the change,
 * and a NOTIFY that is delivered when that transaction commits. Events carry a monotonic
 * `seq`; users see the events of their own resources, admins see all.
 */

import { type Actor, isAdmin } from '../domain.js';
import { LIMITS } from '../limits/limits.js';
import type { Executor } from '../storage/executor.js';
import { runStatement, statement } from '../storage/prepared.js';

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

export interface EventQuery {
  /** Only events with seq greater than this. */
  after?: number;
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

  /** Events visible to `actor`, oldest first. */
  async list(db: Executor, actor: Actor, query: EventQuery = {}): Promise<SlipwayEvent[]> {
    let q = db
      .selectFrom('events')
      .selectAll()
      .orderBy('seq', 'asc')
      .limit(Math.min(Math.max(query.first ?? LIMITS.eventPage.defaultSize, 1), LIMITS.eventPage.maxSize));
    if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
    if (query.after !== undefined) q = q.where('seq', '>', query.after);
    if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    const rows = await q.execute();
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
}
