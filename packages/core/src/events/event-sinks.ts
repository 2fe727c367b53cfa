/**
 * Event sinks handed to provisioners (`ctx.events`): what a plugin emits is stored in the
 * event log, shaped by who asked for the work. `emit` never throws and never blocks the
 * plugin; a failed write is logged. `flush()` waits for every write so far, for callers
 * that answer only once the events are stored (the pool admin's operations).
 */
import { errorMessage } from '../errors.js';
import type { EventSink, Logger, ProvisionerEvent } from '../provisioner/provisioner.js';
import type { NewEvent } from './event-log.js';

/** Stores one event in its own transaction. */
export type AppendEvent = (event: NewEvent) => Promise<unknown>;

export interface StoredEventSink extends EventSink {
  /** Actions emitted so far. */
  readonly emitted: ReadonlySet<string>;
  /** Wait until every emitted event is stored (failures are logged, never thrown). */
  flush(): Promise<void>;
}

/** A sink that stores each emitted event as `shape` makes it. */
export function storedEventSink(
  append: AppendEvent,
  logger: Logger,
  shape: (event: ProvisionerEvent) => NewEvent,
): StoredEventSink {
  const emitted = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  return {
    emitted,
    emit(event) {
      emitted.add(event.action);
      const stored = shape(event);
      const write = append(stored)
        .catch((error: unknown) =>
          logger.warn(`could not store ${stored.type} event`, { action: event.action, error: errorMessage(error) }),
        )
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async flush() {
      await Promise.all(pending);
    },
  };
}

/** What a provisioner emits while working on a resource: `vm` events of the resource's owner. */
export function resourceEventSink(
  append: AppendEvent,
  logger: Logger,
  resource: { id: string; ownerId: string; provisioner: string },
): StoredEventSink {
  return storedEventSink(append, logger, (event) => ({
    type: 'vm',
    action: event.action,
    severity: event.severity ?? 'info',
    ownerId: resource.ownerId,
    resourceId: resource.id,
    data: { provisioner: resource.provisioner, ...event.data },
  }));
}

/** What a provisioner emits outside any resource (its own jobs): `system` events. */
export function systemEventSink(append: AppendEvent, logger: Logger, provisioner: string): StoredEventSink {
  return storedEventSink(append, logger, (event) => ({
    type: 'system',
    action: event.action,
    severity: event.severity ?? 'info',
    data: { provisioner, ...event.data },
  }));
}

/** What a provisioner emits during an operator's operation: `admin` events attributed to the operator. */
export function adminEventSink(
  append: AppendEvent,
  logger: Logger,
  caller: { actorId: string | null; data: Record<string, unknown> },
): StoredEventSink {
  return storedEventSink(append, logger, (event) => ({
    type: 'admin',
    action: event.action,
    severity: event.severity ?? 'info',
    actorId: caller.actorId,
    data: { ...caller.data, ...event.data },
  }));
}
