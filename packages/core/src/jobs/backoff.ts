/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export interface BackoffPolicy {
  /** Delay before the second attempt, ms. Default 1 s. */
  baseMs: number;
  /** Cap on any delay, ms. Default 5 min. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 300_000 };

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
