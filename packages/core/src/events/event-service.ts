/**
 * The event log as a service: what an application or the server reads and writes without a
 * database handle. Inside the core's own transactions the flows use `EventLog` directly, so
 * an event commits with the change it records.
 */

import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Actor } from '../domain.js';
import { assertStorableInput } from '../limits/input-policy.js';
import type { Logger } from '../provisioner/provisioner.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { parseOrThrow } from '../util/parse.js';
import { type EventHistoryQuery, listEventHistory } from './event-history.js';
import type { EventLog, EventQuery, NewEvent, SlipwayEvent } from './event-log.js';
import { adminEventSink, resourceEventSink, type StoredEventSink, systemEventSink } from './event-sinks.js';

/** A seq cursor: a whole number within a signed 64-bit integer (a number, or a bigint beyond 2^53). */
const seqCursor = z.union([
  z.number().int(),
  z
    .bigint()
    .min(-(2n ** 63n))
    .max(2n ** 63n - 1n),
]);
const pageSize = z.number().int().positive();
const eventFilter = {
  resourceId: z.uuid().optional(),
  type: z.enum(['vm', 'system', 'admin']).optional(),
};
const ListSchema = z.object({ after: seqCursor.optional(), first: pageSize.optional(), ...eventFilter });
const HistorySchema = z.object({ before: seqCursor.optional(), last: pageSize.optional(), ...eventFilter });

export interface EventServiceDeps {
  db: Kysely<SlipwayDatabase>;
  log: EventLog;
  logger: Logger;
}

export class EventService {
  readonly #d: EventServiceDeps;

  constructor(deps: EventServiceDeps) {
    this.#d = deps;
  }

  /** Events visible to `actor` (their own resources'; admins see all), oldest first. */
  async list(actor: Actor, query: EventQuery = {}): Promise<SlipwayEvent[]> {
    assertStorableInput(query, 'filter');
    parseOrThrow(ListSchema, query, 'filter');
    return this.#d.log.list(this.#d.db, actor, query);
  }

  /** The same events newest first, paged back with `before` (the smallest seq seen). */
  async history(actor: Actor, query: EventHistoryQuery = {}): Promise<SlipwayEvent[]> {
    assertStorableInput(query, 'filter');
    parseOrThrow(HistorySchema, query, 'filter');
    return listEventHistory(this.#d.db, actor, query);
  }

  /** Store one event in its own transaction; returns its `seq`. */
  append(event: NewEvent): Promise<number> {
    return this.#d.log.append(this.#d.db, event);
  }

  /** A sink for what a provisioner emits while working on a resource (`vm` events of its owner). */
  resourceSink(resource: { id: string; ownerId: string; provisioner: string }): StoredEventSink {
    return resourceEventSink(this.#append, this.#d.logger, resource);
  }

  /** A sink for what a provisioner emits outside any resource (`system` events). */
  systemSink(provisioner: string): StoredEventSink {
    return systemEventSink(this.#append, this.#d.logger, provisioner);
  }

  /** A sink for what a provisioner emits during an operator's operation (`admin` events of `actorId`). */
  adminSink(caller: { actorId: string | null; data: Record<string, unknown> }): StoredEventSink {
    return adminEventSink(this.#append, this.#d.logger, caller);
  }

  readonly #append = (event: NewEvent) => this.append(event);
}
