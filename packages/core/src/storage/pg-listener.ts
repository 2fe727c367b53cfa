/**
 * A LISTEN on PostgreSQL that outlives its connection. The connection can die under it (a
 * server restart, a failover, `pg_terminate_backend`, a network cut caught by TCP keepalive);
 * it is then opened again with backoff and jitter, and `onReconnect` runs once LISTEN is
 * active again. Notifications sent while it was down are lost, so a caller treats
 * `onReconnect` as "anything may have happened": the event stream re-reads its table from
 * each watcher's seq (no loss, no repeat), the job runner claims what is due.
 */
import type pg from 'pg';
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js';

export interface ListenOptions {
  /** LISTEN is active again after its connection was lost (notifications may have been missed). */
  onReconnect?: () => void;
  /** The connection was lost, or a reconnect failed (it is retried). */
  onError?: (error: unknown) => void;
}

/** `application_name` of LISTEN connections (find them in `pg_stat_activity`). */
export const LISTEN_APPLICATION_NAME = 'slipway-listen';

const RECONNECT: BackoffPolicy = { baseMs: 100, maxMs: 5_000 };
/** A connection that lived this long was healthy: the next loss starts the backoff over. */
const STABLE_MS = 30_000;
/**
 * First keepalive probe after this much silence. pg's default (0) leaves the OS's, 2 h on
 * Linux: a cut network would leave LISTEN deaf that long before `error` fires.
 */
const KEEPALIVE_DELAY_MS = 10_000;
/** A connect to an unreachable server fails after this (pg's default waits for good). */
const CONNECT_TIMEOUT_MS = 10_000;

/** LISTEN on `channel`, reconnecting for good until the returned function is called. */
export async function pgListen(
  Client: typeof pg.Client,
  url: string,
  channel: string,
  onPayload: (payload: string) => void,
  options: ListenOptions = {},
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let connectedAt = 0;
  let failures = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  /** A reconnect under way: its client (ended by a close) and its outcome (awaited by it). */
  let pending: { client: pg.Client; done: Promise<void> } | undefined;

  const lost = (c: pg.Client, error: unknown) => {
    if (c !== client || closed) return; // a stale client, or one not yet in use
    client = undefined;
    void c.end().catch(() => {});
    options.onError?.(error);
    if (Date.now() - connectedAt > STABLE_MS) failures = 0;
    schedule();
  };

  const open = () =>
    new Client({
      connectionString: url,
      application_name: LISTEN_APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });

  const connect = async (c: pg.Client): Promise<pg.Client> => {
    c.on('error', (error) => lost(c, error));
    c.on('end', () => lost(c, new Error('LISTEN connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === channel) onPayload(msg.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replaceAll('"', '')}"`);
    } catch (error) {
      await c.end().catch(() => {});
      throw error;
    }
    return c;
  };

  const schedule = () => {
    if (closed || timer) return;
    failures += 1;
    timer = setTimeout(
      () => {
        timer = undefined;
        const next = open();
        const done = connect(next).then(
          async (c) => {
            if (closed) return void (await c.end().catch(() => {}));
            client = c;
            connectedAt = Date.now();
            options.onReconnect?.();
          },
          (error: unknown) => {
            options.onError?.(error);
            schedule();
          },
        );
        pending = { client: next, done };
        void done.finally(() => {
          if (pending?.done === done) pending = undefined;
        });
      },
      backoffDelay(failures, RECONNECT),
    );
    timer.unref();
  };

  // The first connection's failure is the caller's to see.
  client = await connect(open());
  connectedAt = Date.now();
  return async () => {
    closed = true;
    clearTimeout(timer);
    timer = undefined;
    const c = client;
    client = undefined;
    // A reconnect under way is ended too, and awaited: no connection outlives the close.
    const p = pending;
    await Promise.all([c?.end().catch(() => {}), p?.client.end().catch(() => {}), p?.done]);
  };
}
