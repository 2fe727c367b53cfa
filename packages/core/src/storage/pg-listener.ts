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

  const lost = (c: pg.Client, error: unknown) => {
    if (c !== client || closed) return; // a stale client, or one not yet in use
    client = undefined;
    void c.end().catch(() => {});
    options.onError?.(error);
    if (Date.now() - connectedAt > STABLE_MS) failures = 0;
    schedule();
  };

  const connect = async (): Promise<pg.Client> => {
    const c = new Client({ connectionString: url, application_name: LISTEN_APPLICATION_NAME, keepAlive: true });
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
        connect().then(
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
      },
      backoffDelay(failures, RECONNECT),
    );
    timer.unref();
  };

  // The first connection's failure is the caller's to see.
  client = await connect();
  connectedAt = Date.now();
  return async () => {
    closed = true;
    clearTimeout(timer);
    timer = undefined;
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}
