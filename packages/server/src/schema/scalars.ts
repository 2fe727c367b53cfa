/** `DateTime` (ISO 8601 strings), `JSON` (any JSON value), `Credits` and `BigInt` (64-bit integers). */
import { SlipwayError } from '@slipway/core';
import { Kind, type ValueNode } from 'graphql';
import { builder } from '../builder.js';

/**
 * A scalar that does not parse is the client's mistake: a typed VALIDATION_FAILED (the error
 * mask adds the input path graphql-js reports), never an unexpected error.
 */
const invalidScalar = (message: string) => new SlipwayError('VALIDATION_FAILED', message);

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw invalidScalar('DateTime must be an ISO 8601 string');
  return date;
}

builder.scalarType('DateTime', {
  description: 'An instant as an ISO 8601 string, e.g. 2030-01-31T12:00:00Z.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : parseDate(value).toISOString()),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

/**
 * Credits are whole numbers. GraphQL's `Int` is 32-bit while wallets are 64-bit in the
 * database, so credits have their own scalar: a JSON number that is a safe integer (what a
 * JavaScript client reads exactly). The core keeps every balance within LIMITS.credits.
 */
function parseCredits(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidScalar(`Credits must be a whole number within ±${Number.MAX_SAFE_INTEGER}`);
  }
  return value;
}

builder.scalarType('Credits', {
  description: `A whole number of credits, as a JSON number (a safe integer: within ±${Number.MAX_SAFE_INTEGER}).`,
  serialize: (value) => parseCredits(value),
  parseValue: parseCredits,
  parseLiteral: (ast) => parseCredits(ast.kind === Kind.INT ? Number(ast.value) : null),
});

/**
 * 64-bit integers (event seqs: a bigserial column). GraphQL's `Int` stops at 2^31 and JSON
 * numbers are exact only to 2^53 in JavaScript, so they travel as decimal strings; an `Int`
 * is taken on input too, so `events(after: 42)` reads naturally.
 */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^-?(0|[1-9][0-9]{0,18})$/;

function parseBigInt(value: unknown): bigint {
  const n =
    typeof value === 'bigint'
      ? value
      : typeof value === 'string' && DECIMAL.test(value)
        ? BigInt(value)
        : typeof value === 'number' && Number.isSafeInteger(value)
          ? BigInt(value)
          : null;
  if (n === null || n < INT64_MIN || n > INT64_MAX) {
    throw invalidScalar('BigInt must be a whole number within the signed 64-bit range, as a decimal string or an Int');
  }
  return n;
}

builder.scalarType('BigInt', {
  description:
    'A signed 64-bit integer as a decimal string, e.g. "9007199254740993" (exact beyond 2^53, where JSON numbers are not). Input also takes an Int.',
  serialize: (value) => parseBigInt(value).toString(),
  parseValue: parseBigInt,
  parseLiteral: (ast) =>
    parseBigInt(ast.kind === Kind.STRING ? ast.value : ast.kind === Kind.INT ? BigInt(ast.value) : null),
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalToJson(ast, variables),
});
