/**
 * Per-account rate limits counted in the database, so they are exact across replicas.
 * Fixed windows: one conditional upsert per request; the counter is bumped only while it is
 * under the limit, inside the caller's transaction (a request that rolls back is not counted).
 */
import { sql } from 'kysely';
import { SlipwayError } from '../errors.js';
import type { Executor } from '../storage/executor.js';
import { LIMITS } from './limits.js';

export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  /** Window length in ms. */
  windowMs: number;
}

/** Limits per action name; an action without an entry is not limited. */
export type RateLimits = Record<string, RateLimit>;

export const DEFAULT_RATE_LIMITS: RateLimits = { createResource: { ...LIMITS.createRateLimit } };

export class RateLimiter {
  readonly #limits: RateLimits;

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS) {
    this.#limits = limits;
  }

  /** Count one `action` for `accountId` at `now`, or throw RATE_LIMITED with retryAfterSeconds. */
  async consume(db: Executor, accountId: string, action: string, now: Date): Promise<void> {
    const rule = this.#limits[action];
    if (!rule) return;
    const start = Math.floor(now.getTime() / rule.windowMs) * rule.windowMs;
    const windowStart = new Date(start);
    // A limit of 0 refuses everything (the first insert below would otherwise count one in).
    const row =
      rule.limit <= 0
        ? undefined
        : await db
            .insertInto('rate_limits')
            .values({ account_id: accountId, action, window_start: windowStart, count: 1 })
            .onConflict((oc) =>
              oc
                .columns(['account_id', 'action', 'window_start'])
                .doUpdateSet({ count: sql`rate_limits.count + 1` })
                .where('rate_limits.count', '<', rule.limit),
            )
            .returning('count')
            .executeTakeFirst();
    if (!row) {
      const retryAfterSeconds = Math.max(1, Math.ceil((start + rule.windowMs - now.getTime()) / 1000));
      throw new SlipwayError(
        'RATE_LIMITED',
        `${action} is limited to ${rule.limit} per ${rule.windowMs / 1000} s; retry in ${retryAfterSeconds} s`,
        { details: { action, limit: rule.limit, retryAfterSeconds } },
      );
    }
  }

  /** Drop counters of windows long past. */
  async prune(db: Executor, now: Date): Promise<void> {
    const longest = Math.max(60_000, ...Object.values(this.#limits).map((l) => l.windowMs));
    await db
      .deleteFrom('rate_limits')
      .where('window_start', '<', new Date(now.getTime() - 2 * longest))
      .execute();
  }
}
