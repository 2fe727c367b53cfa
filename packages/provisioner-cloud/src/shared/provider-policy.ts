/**
 * One resilience policy per provider, from cockatiel: exponential backoff with decorrelated
 * jitter on 429, 5xx and network failures (honouring `retry-after` / `ratelimit-reset`), a
 * per-request time-out, and a circuit breaker that stops hammering a provider that keeps
 * failing. Bounded by the caller's signal (the job's deadline): nothing outlives it.
 *
 * A request with a side effect (a create POST) is repeated only after a 429, which means it
 * was not processed. After any other failure its outcome is unknown: the caller must look
 * the machine up (by tag or name) before it tries again.
 */
import type { Logger } from '@slipway/core';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  retry,
  wrap,
} from 'cockatiel';
import { isProviderError, ProviderHttpError, redact } from './provider-error.js';

export interface ProviderPolicyOptions {
  /** Attempts per call, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** First backoff delay (ms). Default 500. */
  readonly initialDelayMs?: number;
  /** Longest backoff delay, and longest wait a `retry-after` may ask for (ms). Default 30 s. */
  readonly maxDelayMs?: number;
  /** Time-out of one HTTP request (ms). Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Consecutive failed requests that open the breaker. Default 5. */
  readonly breakerThreshold?: number;
  /** How long the breaker stays open before one probe is let through (ms). Default 30 s. */
  readonly breakerHalfOpenAfterMs?: number;
}

export interface RunOptions {
  /** The caller's deadline: aborting it ends the call and every wait at once. */
  readonly signal: AbortSignal;
  /** False for a request with a side effect (create): only a 429 is repeated. */
  readonly idempotent: boolean;
  readonly logger?: Logger;
}

export class ProviderPolicy {
  readonly #provider: string;
  readonly #options: Required<ProviderPolicyOptions>;
  readonly #breaker;
  readonly #secrets: readonly string[];

  /** `secrets` are blanked out of anything the policy logs (defence in depth: they travel in headers only). */
  constructor(provider: string, options: ProviderPolicyOptions = {}, secrets: readonly string[] = []) {
    this.#provider = provider;
    this.#secrets = secrets;
    this.#options = {
      maxAttempts: options.maxAttempts ?? 5,
      initialDelayMs: options.initialDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      breakerThreshold: options.breakerThreshold ?? 5,
      breakerHalfOpenAfterMs: options.breakerHalfOpenAfterMs ?? 30_000,
    };
    // Only failures that say the provider is unwell count; a 404 or a 422 is a healthy answer.
    this.#breaker = circuitBreaker(
      handleWhen((e) => isProviderError(e) && (e.kind === 'server' || e.kind === 'network')),
      {
        halfOpenAfter: this.#options.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.#options.breakerThreshold),
      },
    );
  }

  /** Run one request under the policy. `fn` gets a signal that also carries the per-request time-out. */
  async run<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, opts: RunOptions): Promise<T> {
    const o = this.#options;
    const retryPolicy = retry(
      handleWhen((e) => isProviderError(e) && (opts.idempotent ? e.transient : e.kind === 'rate_limited')),
      {
        maxAttempts: o.maxAttempts - 1,
        backoff: new HonourRetryAfter(
          new ExponentialBackoff({ initialDelay: o.initialDelayMs, maxDelay: o.maxDelayMs }),
          o.maxDelayMs,
        ),
      },
    );
    retryPolicy.onRetry((r) => {
      const error = 'error' in r ? r.error : undefined;
      opts.logger?.warn(`${this.#provider} request failed; retrying`, {
        what,
        attempt: r.attempt,
        delayMs: Math.round(r.delay),
        ...(isProviderError(error)
          ? { kind: error.kind, providerMessage: redact(error.providerMessage, this.#secrets) }
          : {}),
      });
    });
    try {
      // cockatiel 3's backoff wait ignores the signal: race it, or an abort waits out a retry-after.
      return await untilAborted(
        wrap(retryPolicy, this.#breaker).execute(() => this.#attempt(fn, opts.signal), opts.signal),
        opts.signal,
      );
    } catch (error) {
      if (opts.signal.aborted) throw opts.signal.reason ?? error;
      if (error instanceof BrokenCircuitError) {
        throw new ProviderHttpError(this.#provider, 'network', 'circuit open: too many consecutive failures');
      }
      throw error;
    }
  }

  async #attempt<T>(fn: (signal: AbortSignal) => Promise<T>, outer: AbortSignal): Promise<T> {
    // A retry whose backoff outlived the caller's abort must not send anything.
    outer.throwIfAborted();
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.#options.requestTimeoutMs)]);
    try {
      return await fn(signal);
    } catch (error) {
      if (outer.aborted || isProviderError(error)) throw error;
      if (signal.aborted) {
        throw new ProviderHttpError(this.#provider, 'network', `no answer within ${this.#options.requestTimeoutMs} ms`);
      }
      // fetch rejects with a TypeError on a dropped connection; JSON.parse with a SyntaxError.
      if (error instanceof TypeError || error instanceof SyntaxError) {
        throw new ProviderHttpError(this.#provider, 'network', `${error.name}: ${error.message}`);
      }
      throw error;
    }
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the promise's own outcome is then ignored). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Wait at least as long as the provider asked (capped), else the exponential backoff's delay. */
class HonourRetryAfter implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<IRetryBackoffContext<unknown>>,
    private readonly capMs: number,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const step = this.inner.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = isProviderError(error) ? (error.details.retryAfterMs ?? 0) : 0;
    return {
      duration: Math.max(step.duration, Math.min(asked, this.capMs)),
      next: (c) => new HonourRetryAfter(step, this.capMs).next(c),
    };
  }
}
