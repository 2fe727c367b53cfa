/**
 * What went wrong talking to a cloud provider, classified once so the retry policy, the
 * logs and the user's typed error all agree. The provider's own text (`providerMessage`)
 * is for operators' logs only: users get `toSlipwayError`'s safe message.
 */
import { isSlipwayError, SlipwayError } from '@slipway/core';

export type ProviderFailureKind =
  /** 429: the request was not processed; safe to repeat after `retryAfterMs`. */
  | 'rate_limited'
  /** 5xx: the request may or may not have been processed. */
  | 'server'
  /** No answer, a dropped connection, a per-request time-out, or a body that is not JSON. */
  | 'network'
  /** 401/403: our credentials are wrong; repeating will not help. */
  | 'auth'
  /** The provider has no machine of this kind now (RunPod "no longer any instances", DO droplet limit). */
  | 'capacity'
  | 'not_found'
  /** Another 4xx: the request itself was refused. */
  | 'client';

export class ProviderHttpError extends Error {
  override readonly name = 'ProviderHttpError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderFailureKind,
    /** The provider's own words (HTTP status, error id, message): logs only, never users. */
    readonly providerMessage: string,
    readonly details: {
      readonly status?: number;
      /** How long the provider asked us to wait (retry-after, ratelimit-reset). */
      readonly retryAfterMs?: number;
      /** The provider's request id, for a support ticket. */
      readonly requestId?: string;
      /** A machine-readable error id (`unprocessable_entity`, `pod not found to terminate`). */
      readonly errorId?: string;
    } = {},
  ) {
    super(`${provider}: ${kind}${details.status ? ` (HTTP ${details.status})` : ''}`);
  }

  /** Worth repeating a request that has no side effect (GET, DELETE, an idempotent action). */
  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'server' || this.kind === 'network';
  }
}

export const isProviderError = (e: unknown): e is ProviderHttpError => e instanceof ProviderHttpError;

/**
 * How long `headers` ask us to wait: `retry-after` (seconds or a date), else — only when the
 * quota is spent (a 429, or `ratelimit-remaining: 0`) — `ratelimit-reset` (epoch seconds).
 * DigitalOcean sends `ratelimit-reset` on every answer, pointing an hour ahead: honouring it on
 * a 500 would stall every retry for the whole backoff cap.
 */
export function retryAfterMs(headers: Headers, now: number = Date.now(), status?: number): number | undefined {
  const after = headers.get('retry-after');
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(after);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const spent = status === 429 || headers.get('ratelimit-remaining') === '0';
  const reset = Number(headers.get('ratelimit-reset'));
  if (spent && headers.get('ratelimit-reset') && Number.isFinite(reset)) {
    // DigitalOcean sends an epoch; some compatible APIs send seconds to wait. Small numbers are the latter.
    return Math.max(0, reset > 1e9 ? reset * 1000 - now : reset * 1000);
  }
  return undefined;
}

/** Classify a non-2xx answer. `body` is the raw text; its message fields are read if it is JSON. */
export function httpError(provider: string, response: Response, body: string): ProviderHttpError {
  const status = response.status;
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: the raw text is the message
  }
  const text = (k: string) => (typeof parsed[k] === 'string' ? (parsed[k] as string) : undefined);
  // DigitalOcean {id, message, request_id}; RunPod v1 {message} or {error}; v2 problem+json {title, detail}.
  const message = text('message') ?? text('detail') ?? text('error') ?? text('title') ?? body.slice(0, 500);
  const requestId = text('request_id') ?? response.headers.get('x-request-id') ?? undefined;
  const errorId = text('id');
  const kind: ProviderFailureKind =
    status === 429
      ? 'rate_limited'
      : status >= 500
        ? 'server'
        : status === 401 || status === 403
          ? 'auth'
          : status === 404
            ? 'not_found'
            : 'client';
  return new ProviderHttpError(provider, kind, `HTTP ${status}${errorId ? ` ${errorId}` : ''}: ${message}`, {
    status,
    retryAfterMs: retryAfterMs(response.headers, Date.now(), status),
    ...(requestId ? { requestId } : {}),
    ...(errorId ? { errorId } : {}),
  });
}

/**
 * The typed error a user sees: a stable code and a message that names the provider and what
 * failed, never the provider's text (it may carry account or infrastructure details).
 * Transient failures are `retryable`, so the core's job retries them with backoff.
 */
export function toSlipwayError(error: unknown, provider: string, what: string): unknown {
  if (isSlipwayError(error) || !isProviderError(error)) return error;
  const details = { provider, ...(error.details.requestId ? { providerRequestId: error.details.requestId } : {}) };
  switch (error.kind) {
    case 'capacity':
      return new SlipwayError('CAPACITY_EXHAUSTED', `${provider} has no capacity for this request now (${what})`, {
        details,
      });
    case 'auth':
      return new SlipwayError(
        'PROVISIONER_FAILED',
        `${provider} refused Slipway's credentials (${what}); an operator must fix the configured secret`,
        { details },
      );
    case 'rate_limited':
      return new SlipwayError(
        'PROVISIONER_FAILED',
        `${provider} is rate limiting Slipway (${what}); it will be retried`,
        {
          details: { ...details, retryAfterSeconds: Math.ceil((error.details.retryAfterMs ?? 0) / 1000) },
          retryable: true,
        },
      );
    case 'server':
    case 'network':
      return new SlipwayError(
        'PROVISIONER_FAILED',
        `${provider} did not answer properly (${what}); it will be retried`,
        {
          details,
          retryable: true,
        },
      );
    default:
      return new SlipwayError(
        'PROVISIONER_FAILED',
        `${provider} refused the request (${what}${error.details.status ? `, HTTP ${error.details.status}` : ''})`,
        { details },
      );
  }
}

/** Replace every configured secret in `text` (defence in depth for anything that reaches a log). */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
