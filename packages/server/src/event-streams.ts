/**
 * Open event subscriptions (SSE), per replica: at most `perAccount` for one account and
 * `total` in all, so one account, or many, cannot hold a replica's connections and LISTEN
 * wake-ups; and each ends when the token it was opened with expires (it would otherwise
 * outlive the token for as long as the client stays connected). The client resumes with a
 * fresh token and `after`, losing nothing.
 *
 * A stream counts only once it runs: a subscription that is answered another way (a 406 for
 * a client that does not take SSE) or whose client left first never starts its generator,
 * and a generator that never started has no `finally` to count it out.
 */
import { SlipwayError } from '@slipway/core';
import { unauthenticatedError } from './auth.js';

const TOKEN_EXPIRED = Symbol('token expired');
/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_DELAY = 2 ** 31 - 1;

export class EventStreams {
  readonly #perAccount: number;
  readonly #total: number;
  readonly #open = new Map<string, number>();
  #all = 0;

  constructor(limits: { perAccount: number; total: number }) {
    this.#perAccount = limits.perAccount;
    this.#total = limits.total;
  }

  /** Streams `accountId` has running on this replica. */
  count(accountId: string): number {
    return this.#open.get(accountId) ?? 0;
  }

  /**
   * `stream` for `accountId`: RATE_LIMITED past a cap (before the response when it can, else as
   * the stream's first message); ended by the client leaving, or with UNAUTHENTICATED (reason
   * `expired`) at `expiresAt`.
   */
  open<T>(
    accountId: string,
    expiresAt: Date | null,
    client: AbortSignal,
    stream: (signal: AbortSignal) => AsyncGenerator<T>,
  ): AsyncGenerator<T> {
    this.#refuseIfFull(accountId);
    const streams = this;
    return (async function* () {
      if (client.aborted) return;
      streams.#refuseIfFull(accountId);
      streams.#add(accountId, 1);
      const controller = new AbortController();
      const end = () => controller.abort(client.reason);
      client.addEventListener('abort', end, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        const left = (expiresAt?.getTime() ?? 0) - Date.now();
        if (left <= 0) controller.abort(TOKEN_EXPIRED);
        else timer = setTimeout(arm, Math.min(left, MAX_DELAY));
      };
      if (expiresAt) arm();
      try {
        yield* stream(controller.signal);
        if (controller.signal.reason === TOKEN_EXPIRED) throw unauthenticatedError('expired');
      } finally {
        clearTimeout(timer);
        client.removeEventListener('abort', end);
        streams.#add(accountId, -1);
      }
    })();
  }

  #refuseIfFull(accountId: string): void {
    const full =
      this.count(accountId) >= this.#perAccount
        ? { limit: this.#perAccount, scope: 'per account' }
        : this.#all >= this.#total
          ? { limit: this.#total, scope: 'on this server' }
          : undefined;
    if (!full) return;
    throw new SlipwayError('RATE_LIMITED', `At most ${full.limit} open event streams ${full.scope}`, {
      details: { retryAfterSeconds: 5, limit: full.limit },
    });
  }

  #add(accountId: string, n: 1 | -1): void {
    this.#all += n;
    const left = this.count(accountId) + n;
    if (left > 0) this.#open.set(accountId, left);
    else this.#open.delete(accountId);
  }
}
