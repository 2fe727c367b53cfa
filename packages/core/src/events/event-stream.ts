/**
 * Watch the event log: replay from a cursor, then follow live. One LISTEN per process wakes
 * every watcher (LISTEN/NOTIFY on PostgreSQL reaches every replica; PGlite notifies
 * in-process); each watcher then reads `seq > cursor` from the table, so a reconnect that
 * resumes from its last seq sees no gap and no duplicate. When the LISTEN connection itself
 * is lost, the storage reopens it with backoff (storage/pg-listener.ts) and every watcher is
 * woken once it is back, to read what it missed meanwhile by seq; the poll covers the gap.
 */
import type { Kysely } from 'kysely';
import type { Actor } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../provisioner/provisioner.js';
import type { SlipwayStorage } from '../storage/database.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { EVENTS_CHANNEL, type EventLog, type EventQuery, type SlipwayEvent } from './event-log.js';

export interface WatchOptions extends Omit<EventQuery, 'first'> {
  signal?: AbortSignal;
  /** Fallback poll when no notification arrives (ms). Default 2 s. */
  pollMs?: number;
}

export class EventStream {
  readonly #db: Kysely<SlipwayDatabase>;
  readonly #storage: SlipwayStorage;
  readonly #log: EventLog;
  readonly #logger: Logger | undefined;
  readonly #wakers = new Set<() => void>();
  #listening: Promise<() => Promise<void>> | undefined;

  constructor(deps: { storage: SlipwayStorage; log: EventLog; logger?: Logger }) {
    this.#storage = deps.storage;
    this.#db = deps.storage.db;
    this.#log = deps.log;
    this.#logger = deps.logger;
  }

  /** The seq of the newest event, for "from now on" watchers. */
  async head(): Promise<number> {
    const row = await this.#db
      .selectFrom('events')
      .select((eb) => eb.fn.max('seq').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /** Events visible to `actor` after `opts.after`, oldest first, until the signal aborts. */
  async *watch(actor: Actor, opts: WatchOptions = {}): AsyncGenerator<SlipwayEvent> {
    let cursor: number | bigint = opts.after ?? (await this.head());
    let wake: () => void = () => {};
    let pending = false;
    const waker = () => {
      pending = true;
      wake();
    };
    this.#wakers.add(waker);
    await this.#ensureListening();
    const onAbort = () => wake();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      while (!opts.signal?.aborted) {
        pending = false;
        const batch = await this.#log.list(this.#db, actor, { ...opts, after: cursor, first: 200 });
        for (const event of batch) {
          cursor = event.seq;
          yield event;
        }
        if (batch.length === 200 || pending) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.pollMs ?? 2_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          if (pending || opts.signal?.aborted) wake();
        });
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      this.#wakers.delete(waker);
    }
  }

  /** Wake all watchers of this process (also called on every NOTIFY). */
  notify(): void {
    for (const w of this.#wakers) w();
  }

  async close(): Promise<void> {
    const unlisten = await this.#listening?.catch(() => undefined);
    this.#listening = undefined;
    await unlisten?.();
  }

  #ensureListening(): Promise<unknown> {
    this.#listening ??= this.#storage
      .listen(EVENTS_CHANNEL, () => this.notify(), {
        // Back after a lost connection: every watcher re-reads from its own seq.
        onReconnect: () => {
          this.#logger?.info('event LISTEN reconnected');
          this.notify();
        },
        onError: (error) => this.#logger?.warn('event LISTEN connection lost', { error: errorMessage(error) }),
      })
      .catch((error: unknown) => {
        this.#listening = undefined; // the next watcher tries again
        throw error;
      });
    return this.#listening;
  }
}
