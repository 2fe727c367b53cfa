/**
 * Core throws one class, SlipwayError, with a code. The GraphQL error unions match on
 * classes (plugin-errors checks `instanceof`), so resolvers turn each expected failure
 * into the server-side subclass for its code. Codes stay exactly the core's.
 */
import { type ErrorCode, isSlipwayError, SlipwayError } from '@slipway/core';

/** A SlipwayError re-thrown as the class its GraphQL error type is registered with. */
export abstract class TypedError extends SlipwayError {
  constructor(source: SlipwayError) {
    super(source.code, source.message, { cause: source, details: source.details });
  }
}

export interface ValidationIssue {
  field: string;
  message: string;
}

export class ValidationError extends TypedError {
  get field(): string {
    return typeof this.details.field === 'string' ? this.details.field : 'input';
  }
  get issues(): ValidationIssue[] {
    const issues = this.details.issues;
    if (Array.isArray(issues) && issues.every(isIssue)) return issues;
    // Core names one field for most checks; strip its "field: " prefix for the message.
    const prefix = `${this.field}: `;
    const message = this.message.startsWith(prefix) ? this.message.slice(prefix.length) : this.message;
    return [{ field: this.field, message }];
  }
}

export class InsufficientCreditsError extends TypedError {
  get required(): number {
    return numberDetail(this.details.required);
  }
  get available(): number {
    return numberDetail(this.details.available);
  }
}

export class NotFoundError extends TypedError {}
export class ForbiddenError extends TypedError {}
export class InvalidStateError extends TypedError {}

export class ProvisionerError extends TypedError {
  get resourceId(): string | null {
    return stringDetail(this.details.resourceId);
  }
}

export class IdempotencyMismatchError extends TypedError {
  get fields(): string[] {
    const fields = this.details.fields;
    return Array.isArray(fields) ? fields.map(String) : [];
  }
}

export class RequestInProgressError extends TypedError {
  get resourceId(): string | null {
    return stringDetail(this.details.resourceId);
  }
}

export class CapacityExhaustedError extends TypedError {
  get resourceId(): string | null {
    return stringDetail(this.details.resourceId);
  }
}

export class NotSupportedError extends TypedError {
  get provisioner(): string | null {
    return stringDetail(this.details.provisioner);
  }
  get capability(): string | null {
    return stringDetail(this.details.capability);
  }
}

export class ConflictError extends TypedError {
  get operation(): string | null {
    return stringDetail(this.details.operation);
  }
}

export class RateLimitedError extends TypedError {
  get retryAfterSeconds(): number {
    return numberDetail(this.details.retryAfterSeconds);
  }
}

const CLASS_BY_CODE: Partial<Record<ErrorCode, new (source: SlipwayError) => TypedError>> = {
  VALIDATION_FAILED: ValidationError,
  // An unknown provisioner name is bad input (`field: provisioner`), branchable like any other.
  UNKNOWN_PROVISIONER: ValidationError,
  INSUFFICIENT_CREDITS: InsufficientCreditsError,
  NOT_FOUND: NotFoundError,
  FORBIDDEN: ForbiddenError,
  INVALID_STATE: InvalidStateError,
  PROVISIONER_FAILED: ProvisionerError,
  PROVISIONER_TIMEOUT: ProvisionerError,
  PROVISIONER_ABORTED: ProvisionerError,
  PROVISIONER_INVALID_OUTPUT: ProvisionerError,
  IDEMPOTENCY_MISMATCH: IdempotencyMismatchError,
  REQUEST_IN_PROGRESS: RequestInProgressError,
  CAPACITY_EXHAUSTED: CapacityExhaustedError,
  RATE_LIMITED: RateLimitedError,
  NOT_SUPPORTED: NotSupportedError,
  CONFLICT: ConflictError,
};

export function toTypedError(error: SlipwayError): SlipwayError {
  if (error instanceof TypedError) return error;
  const ErrorClass = CLASS_BY_CODE[error.code];
  return ErrorClass ? new ErrorClass(error) : error;
}

/** Run a core call; its SlipwayErrors come out typed, anything else passes through (and is masked). */
export async function typed<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw isSlipwayError(error) ? toTypedError(error) : error;
  }
}

const isIssue = (v: unknown): v is ValidationIssue =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ValidationIssue).field === 'string' &&
  typeof (v as ValidationIssue).message === 'string';

const numberDetail = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const stringDetail = (v: unknown): string | null => (typeof v === 'string' ? v : null);
