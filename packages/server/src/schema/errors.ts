/**
 * Typed errors for the result unions. Every member implements `Error { code message }`;
 * `code` is one of core's ERROR_CODES, so clients branch on `__typename` or on `code`.
 */
import { ERROR_CODES, type ErrorCode, type SlipwayError } from '@slipway/core';
import { builder } from '../builder.js';
import {
  CapacityExhaustedError,
  ConflictError,
  ForbiddenError,
  IdempotencyMismatchError,
  InsufficientCreditsError,
  InvalidStateError,
  NotFoundError,
  NotSupportedError,
  ProvisionerError,
  RateLimitedError,
  RequestInProgressError,
  ValidationError,
  type ValidationIssue,
} from '../errors/typed-errors.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable machine-readable error codes; the same values appear in `extensions.code`.',
  values: Object.fromEntries(
    Object.entries(ERROR_CODES).map(([code, description]) => [code, { value: code as ErrorCode, description }]),
  ) as Record<ErrorCode, { value: ErrorCode; description: string }>,
});

export const ErrorInterface = builder.interfaceRef<SlipwayError>('Error').implement({
  description: 'An expected failure: branch on `code`; `message` is for people.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const ValidationIssueType = builder.objectRef<ValidationIssue>('ValidationIssue').implement({
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Dotted input path, e.g. `spec.vcpu`.' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'Input did not parse (VALIDATION_FAILED) or named an unknown provisioner (UNKNOWN_PROVISIONER).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.string({ description: 'The first offending input path.', resolve: (e) => e.field }),
    issues: t.field({ type: [ValidationIssueType], resolve: (e) => e.issues }),
    problems: t.stringList({
      nullable: true,
      description:
        'Every problem of a refused whole document (a pool for `refreshPool`), each naming its path; null otherwise.',
      resolve: (e) => (Array.isArray(e.details.problems) ? e.details.problems.map(String) : null),
    }),
  }),
});

builder.objectType(InsufficientCreditsError, {
  name: 'InsufficientCreditsError',
  description: 'Available credits do not cover the price. Nothing was reserved or charged.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    required: t.field({ type: 'Credits', resolve: (e) => e.required }),
    available: t.field({ type: 'Credits', resolve: (e) => e.available }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'No such object visible to the caller (other users’ resources are not found, never forbidden).',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: 'A domain rule refused the caller. Missing roles are reported as top-level FORBIDDEN errors.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(InvalidStateError, {
  name: 'InvalidStateError',
  description: 'The resource is in a state that does not allow this operation (e.g. still PROVISIONING).',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ProvisionerError, {
  name: 'ProvisionerError',
  description:
    'The provisioner failed, timed out, was aborted or answered out of contract (PROVISIONER_*). Credits held for a failed create are refunded.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resourceId: t.id({ nullable: true, resolve: (e) => e.resourceId }),
  }),
});

builder.objectType(IdempotencyMismatchError, {
  name: 'IdempotencyMismatchError',
  description: 'The requestId was used before with different parameters.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fields: t.stringList({ description: 'Parameters that differ from the first request.', resolve: (e) => e.fields }),
  }),
});

builder.objectType(RequestInProgressError, {
  name: 'RequestInProgressError',
  description: 'A create with this requestId is still being provisioned; retry later.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resourceId: t.id({ nullable: true, resolve: (e) => e.resourceId }),
  }),
});

builder.objectType(CapacityExhaustedError, {
  name: 'CapacityExhaustedError',
  description: 'The provisioner has no machine that fits right now; the credit hold was released.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resourceId: t.id({ nullable: true, resolve: (e) => e.resourceId }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: 'Too many requests of this kind from this account; nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterSeconds: t.int({ resolve: (e) => e.retryAfterSeconds }),
  }),
});

builder.objectType(NotSupportedError, {
  name: 'NotSupportedError',
  description: 'The resource’s provisioner cannot do this (no power control, no hotplug, ...); nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    provisioner: t.string({ nullable: true, resolve: (e) => e.provisioner }),
    capability: t.string({ nullable: true, description: 'The capability it lacks.', resolve: (e) => e.capability }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'Another operation is in flight on the resource; retry when it has ended. Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    operation: t.string({ nullable: true, description: 'The action in flight.', resolve: (e) => e.operation }),
  }),
});
