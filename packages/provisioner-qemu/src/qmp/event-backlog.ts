import { QmpAbortedError, QmpBacklogOverflowError, QmpTimeoutError } from './qmp-errors.js';
import type { QmpEvent } from './qmp-message.js';

/** An event with its place in the stream: sequence numbers start at 1 and never repeat. */
export interface BacklogEntry {
  seq: number;
  event: QmpEvent;
}

export type EventPredicate = (event: QmpEvent) => boolean;

export interface WaitForEventOptions {
  /**
   * A marker taken before the action that causes the event (`client.marker()`): events after it
   * that are already buffered count. Without it only events from now on count.
   */
  since?: number;
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
  /**
   * Keep waiting when the connection drops (the client reconnects and QEMU may still send it).
   * Default false: a disconnect fails the wait with QmpDisconnectedError, since a QEMU that
   * went away will never send the event.
   */
  acrossDisconnect?: boolean;
}

export const DEFAULT_EVENT_TIMEOUT_MS = 30_000;
export const DEFAULT_BACKLOG_SIZE = 1_000;

interface Waiter {
  matches(event: QmpEvent): boolean;
  resolve(event: QmpEvent): void;
  reject(error: Error): void;
  acrossDisconnect: boolean;
}

/**
 * A bounded, ordered record of events plus their waiters. The point is ordering: QEMU may send
 * an event (DEVICE_DELETED for `device_del`) before the reply to the command that caused it, so a
 * caller takes a marker, sends the command, and then waits "since the marker" — an event that
 * came in between is found in the backlog instead of being missed.
 */
export class EventBacklog {
  private readonly entries: BacklogEntry[] = [];
  private lastSeq = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(entry: BacklogEntry) => void>();

  constructor(
    private readonly capacity = DEFAULT_BACKLOG_SIZE,
    private readonly onListenerError: (error: unknown) => void = () => {},
  ) {}

  /** The sequence number of the newest event (0 before any): pass it as `since` later. */
  marker(): number {
    return this.lastSeq;
  }

  push(event: QmpEvent): BacklogEntry {
    const entry = { seq: ++this.lastSeq, event };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    for (const waiter of [...this.waiters]) {
      if (waiter.matches(event)) waiter.resolve(event);
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return entry;
  }

  /** Events after `since`, oldest first. Throws QmpBacklogOverflowError if some were already dropped. */
  since(since: number): BacklogEntry[] {
    const oldestKept = this.entries[0]?.seq ?? this.lastSeq + 1;
    if (since < oldestKept - 1) throw new QmpBacklogOverflowError(since, oldestKept);
    return this.entries.filter((entry) => entry.seq > since);
  }

  /** Call `listener` for every new event; returns the unsubscribe function. */
  subscribe(listener: (entry: BacklogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first event named `name` (and passing `predicate`) after `options.since`, buffered or future. */
  waitFor(name: string, predicate: EventPredicate | undefined, options: WaitForEventOptions = {}): Promise<QmpEvent> {
    const matches = (event: QmpEvent) => event.event === name && (predicate?.(event) ?? true);
    const { signal, since = this.lastSeq, timeoutMs = DEFAULT_EVENT_TIMEOUT_MS } = options;
    return new Promise<QmpEvent>((resolve, reject) => {
      if (signal?.aborted) return reject(new QmpAbortedError(`event ${name}`, false, signal.reason));
      let buffered: BacklogEntry[];
      try {
        buffered = this.since(since);
      } catch (error) {
        return reject(error);
      }
      const found = buffered.find((entry) => matches(entry.event));
      if (found) return resolve(found.event);

      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        matches,
        acrossDisconnect: options.acrossDisconnect ?? false,
        resolve: (event) => {
          finish();
          resolve(event);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(new QmpAbortedError(`event ${name}`, false, signal?.reason));
      const timer = setTimeout(() => waiter.reject(QmpTimeoutError.forEvent(name, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Fail the waiters that cannot survive a disconnect (or all, when closing for good). */
  failWaiters(error: Error, includeAcrossDisconnect: boolean): void {
    for (const waiter of [...this.waiters]) {
      if (includeAcrossDisconnect || !waiter.acrossDisconnect) waiter.reject(error);
    }
  }
}
