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
    'The provisioner has no machine that fits (pool exhausted, no cloud capacity); the hold was released.',
  RATE_LIMITED: 'Too many requests of this kind; carries `retryAfterSeconds`.',
  PROVISIONER_FAILED: 'The provisioner reported an error; the credit hold was released.',
  PROVISIONER_TIMEOUT: 'The provisioner did not answer within its time-out.',
  PROVISIONER_ABORTED: 'The operation was aborted by its caller.',
  PROVISIONER_INVALID_OUTPUT: 'The provisioner returned something that does not match the contract.',
  REQUEST_IN_PROGRESS: 'A request with this requestId is still being worked on; retry later.',
  IDEMPOTENCY_MISMATCH: 'The requestId was used before with different parameters; carries `fields`.',
  CONFIG_INVALID: 'A configuration value did not parse; names the variable.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SlipwayErrorOptions {
  cause?: unknown;
  /** Structured, client-safe details (e.g. `field`, `required`, `available`). */
  details?: Record<string, unknown>;
}

/** An expected failure with a stable code. Anything that is not a SlipwayError is unexpected. */
export class SlipwayError extends Error {
  override readonly name = 'SlipwayError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isSlipwayError(error: unknown, code?: ErrorCode): error is SlipwayError {
  return error instanceof SlipwayError && (code === undefined || error.code === code);
}

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
