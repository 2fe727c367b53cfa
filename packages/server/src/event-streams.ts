/**
 * Open event subscriptions (SSE), per replica: at most `max` per account, so one account
 * cannot hold a replica's connections and LISTEN wake-ups, and each ends when the token it
 * was opened with expires (it would otherwise outlive the token for as long as the client
 * stays connected). The client resumes with a fresh token and `after`, losing nothing.
 */
import { SlipwayError } from '@slipway/core';
import { unauthenticatedError } from './auth.js';

const TOKEN_EXPIRED = Symbol('token expired');

export class EventStreams {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(maxPerAccount: number) {
    this.#max = maxPerAccount;
  }

  /** Streams `accountId` has open on this replica. */
  count(accountId: string): number {
    return this.#open.get(accountId) ?? 0;
  }

  /**
   * Start `stream` for `accountId`: RATE_LIMITED past the cap; ended by `client` going away,
   * or with UNAUTHENTICATED (reason `expired`) at `expiresAt`.
   */
  open<T>(
    accountId: string,
    expiresAt: Date | null,
    client: AbortSignal,
    stream: (signal: AbortSignal) => AsyncGenerator<T>,
  ): AsyncGenerator<T> {
    if (this.count(accountId) >= this.#max) {
      throw new SlipwayError('RATE_LIMITED', `At most ${this.#max} open event streams per account`, {
        details: { retryAfterSeconds: 5, limit: this.#max },
      });
    }
    this.#open.set(accountId, this.count(accountId) + 1);
    const controller = new AbortController();
    const end = () => controller.abort(client.reason);
    const timer =
      expiresAt === null
        ? undefined
        : setTimeout(
            () => controller.abort(TOKEN_EXPIRED),
            Math.min(Math.max(0, expiresAt.getTime() - Date.now()), 2 ** 31 - 1),
          );
    let closed = false;
    // Runs on the first of: the stream's end, the client leaving (a stream never iterated has no `finally`).
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      client.removeEventListener('abort', close);
      const left = this.count(accountId) - 1;
      if (left > 0) this.#open.set(accountId, left);
      else this.#open.delete(accountId);
    };
    client.addEventListener('abort', end, { once: true });
    client.addEventListener('abort', close, { once: true });
    if (client.aborted) end();
    const inner = stream(controller.signal);
    return (async function* () {
      try {
        yield* inner;
        if (controller.signal.reason === TOKEN_EXPIRED) throw unauthenticatedError('expired');
      } finally {
        client.removeEventListener('abort', end);
        close();
      }
    })();
  }
}
