/**
 * One value, computed at most once per `ttlMs`: callers within that time share the answer,
 * and concurrent callers share one computation. A failed computation is not kept.
 */
export class TtlCache<T> {
  readonly #ttlMs: number;
  readonly #now: () => number;
  #entry: { until: number; value: Promise<T> } | undefined;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(compute: () => Promise<T>): Promise<T> {
    const entry = this.#entry;
    if (entry && this.#now() < entry.until) return entry.value;
    const value = compute();
    const kept = { until: this.#now() + this.#ttlMs, value };
    this.#entry = kept;
    value.catch(() => {
      if (this.#entry === kept) this.#entry = undefined;
    });
    return value;
  }
}
