/**
 * Per-account request rate limit on the whole GraphQL API (SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE),
 * checked once the request's parameters are read and before its document is parsed.
 *
 * - Signed-in callers are counted like the create limit: core's RateLimiter, fixed 1-minute
 *   windows in the `rate_limits` table (action `request`), one upsert per request, exact
 *   across replicas; core's prune sweeper drops old windows.
 * - Anonymous callers (no token, or one that does not verify) can reach only `health`, so
 *   they are counted per IP in this replica's memory: a flood of them costs no database write.
 *   Behind a proxy they share the proxy's address.
 *
 * Over the limit: RATE_LIMITED with `retryAfterSeconds`, HTTP 429 and `Retry-After`.
 */
import { errorMessage, isSlipwayError, type Logger, RateLimiter, type Slipway } from '@slipway/core';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { authenticate } from '../auth.js';
import { typedExtensions } from './refusal.js';

const WINDOW_MS = 60_000;
const ACTION = 'request';
/** Distinct anonymous addresses tracked per window; past it they share one count. */
const MAX_TRACKED_ADDRESSES = 100_000;

export interface RequestRateLimitOptions {
  perMinute: number;
  slipway: Slipway;
  jwtSecret: string;
  logger: Logger;
  now?: () => Date;
}

export function requestRateLimitPlugin(options: RequestRateLimitOptions): Plugin {
  const { perMinute, slipway, logger } = options;
  const now = options.now ?? (() => new Date());
  const limiter = new RateLimiter({ [ACTION]: { limit: perMinute, windowMs: WINDOW_MS } });
  const anonymous = new AnonymousCounter(perMinute);

  const refusal = (retryAfterSeconds: number) => ({
    errors: [
      createGraphQLError(`Requests are limited to ${perMinute} per minute; retry in ${retryAfterSeconds} s`, {
        extensions: typedExtensions(
          'RATE_LIMITED',
          { action: ACTION, limit: perMinute, retryAfterSeconds },
          { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
        ),
      }),
    ],
  });

  return {
    async onParams({ request, context, setResult }) {
      if (perMinute <= 0) return;
      const at = now();
      const auth = await authenticate(request, options.jwtSecret);
      if (!auth?.actor) {
        const wait = anonymous.consume(clientAddress(context), at.getTime());
        if (wait !== null) setResult(refusal(wait));
        return;
      }
      try {
        await limiter.consume(slipway.storage.db, auth.actor.id, ACTION, at);
      } catch (error) {
        if (isSlipwayError(error, 'RATE_LIMITED')) {
          setResult(refusal(Number(error.details.retryAfterSeconds) || 1));
          return;
        }
        // The counter is a guard, not the service: without the database the request fails on its own.
        logger.warn('request rate limit not counted', { error: errorMessage(error) });
      }
    },
  };
}

/** Fixed 1-minute windows per address, kept in memory: one map per window, replaced when it ends. */
class AnonymousCounter {
  #windowStart = 0;
  #counts = new Map<string, number>();
  constructor(readonly limit: number) {}

  /** Count one request; null if allowed, else the seconds until the window ends. */
  consume(address: string, nowMs: number): number | null {
    const start = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#counts = new Map();
    }
    const key = this.#counts.has(address) || this.#counts.size < MAX_TRACKED_ADDRESSES ? address : '*';
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.limit) return Math.max(1, Math.ceil((start + WINDOW_MS - nowMs) / 1000));
    this.#counts.set(key, count + 1);
    return null;
  }
}

/** The peer address node:http saw (yoga's server context carries the IncomingMessage as `req`). */
function clientAddress(serverContext: unknown): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? 'unknown';
}
