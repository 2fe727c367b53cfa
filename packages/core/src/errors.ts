/**
 * Every expected failure in Slipway carries one of these codes. Clients branch on the code
 * (GraphQL `extensions.code` or the error union's `code` field); the message is for people.
 * docs/errors.md lists the same table, and a test fails when the two drift apart.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 'Input did not parse; `field` names the offending input path.',
  INSUFFICIENT_CREDITS: 'Available credits do not cover the price; carries `required` and `available`.',
  NOT_FOUND: 'No such resource, account or provisioner visible to the caller.',
  FORBIDDEN: 'The caller is authenticated but lacks the role for this operation.',
  UNAUTHENTICATED: 'No valid bearer token was presented.',
  INVALID_STATE: 'The resource is in a state that does not allow this operation.',
  UNKNOWN_PROVISIONER: 'No provisioner is registered under the requested name.',
  DUPLICATE_PROVISIONER: 'A provisioner with this name is already registered.',
  CAPACITY_EXHAUSTED:
    'The provisioner has no machine that fits (pool exhausted, no host with room, no cloud capacity); the hold was released.',
  RATE_LIMITED: 'Too many requests of this kind; carries `retryAfterSeconds`.',
  QUERY_TOO_COMPLEX:
    'The request is over a size or cost limit of the API (body bytes, depth, aliases, tokens, directives, cost); carries `limit` and `max`. Split or shrink it.',
  PROVISIONER_FAILED: 'The provisioner reported an error; the credit hold was released.',
  PROVISIONER_TIMEOUT: 'The provisioner did not answer within its time-out.',
  PROVISIONER_ABORTED: 'The operation was aborted by its caller.',
  PROVISIONER_INVALID_OUTPUT: 'The provisioner returned something that does not match the contract.',
  REQUEST_IN_PROGRESS: 'A request with this requestId is still being worked on; retry later.',
  IDEMPOTENCY_MISMATCH: 'The requestId was used before with different parameters; carries `fields`.',
  CONFIG_INVALID: 'A configuration value did not parse; names the variable.',
  HOST_IN_USE: 'Another live replica serves a host of this name; `start()` refuses rather than pose as the same host.',
  NOT_SUPPORTED: 'The provisioner does not implement this operation; carries `provisioner` and `capability`.',
  CONFLICT:
    'Another operation is in flight on the resource (or it changed meanwhile); carries `operation`. Retry when it has ended.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SlipwayErrorOptions {
  cause?: unknown;
  /** Structured, client-safe details (e.g. `field`, `required`, `available`). */
  details?: Record<string, unknown>;
  /**
   * Worth another attempt (a 429 or 5xx from a provider, a dropped connection): the core
   * retries an allocate that fails with it, with backoff. Default false.
   */
  retryable?: boolean;
}

/**
 * Marks every SlipwayError. `Symbol.for` is shared across module copies, so an app that
 * loads two copies of the core (a plugin resolving its own) still recognises the errors
 * of the other copy: `isSlipwayError` and `instanceof SlipwayError` check the brand.
 */
const BRAND = Symbol.for('@slipway/core:SlipwayError');

/**
 * An expected failure with a stable code. Anything that is not a SlipwayError is unexpected.
 *
 * `new SlipwayError(code, message, { cause?, details?, retryable? })`: `code` is one of
 * ERROR_CODES, `message` is for people, `details` for clients (never secrets).
 */
export class SlipwayError extends Error {
  override readonly name = 'SlipwayError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? this.details.retryable === true;
    // Not a class field: a non-enumerable brand stays out of JSON and of the declaration files.
    Object.defineProperty(this, BRAND, { value: true });
  }
}

// `x instanceof SlipwayError` holds for errors of any copy of the core; subclasses check as usual.
Object.defineProperty(SlipwayError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === SlipwayError ? isBranded(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

function isBranded(value: unknown): value is SlipwayError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** A SlipwayError of this or any other copy of the core, optionally with one code. */
export function isSlipwayError(error: unknown, code?: ErrorCode): error is SlipwayError {
  return isBranded(error) && (code === undefined || error.code === code);
}

/** The message of anything thrown. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const validationError = (field: string, message: string): SlipwayError =>
  new SlipwayError('VALIDATION_FAILED', `${field}: ${message}`, { details: { field } });

export class InsufficientCreditsError extends SlipwayError {
  readonly required: number;
  readonly available: number;
  constructor(required: number, available: number) {
    super('INSUFFICIENT_CREDITS', `Needs ${required} credits, ${available} available`, {
      details: { required, available },
    });
    this.required = required;
    this.available = available;
  }
}

export const notFound = (what: string, id: string): SlipwayError =>
  new SlipwayError('NOT_FOUND', `${what} ${id} not found`, { details: { id } });
