/**
 * The typed GraphQL errors of the request limits: each carries `extensions.code` (one of
 * core's ERROR_CODES) and what a client needs to act on it, never INTERNAL_SERVER_ERROR.
 */
import type { ErrorCode } from '@slipway/core';
import type { ASTNode, GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

/** Which limit of QueryLimits a QUERY_TOO_COMPLEX names in `extensions.limit`. */
export type QueryLimitName = 'bodyBytes' | 'depth' | 'aliases' | 'tokens' | 'directives' | 'cost';

const WHAT: Record<QueryLimitName, string> = {
  bodyBytes: 'bytes of request body',
  depth: 'levels of nesting',
  aliases: 'aliases',
  tokens: 'tokens',
  directives: 'directives',
  cost: 'points of estimated cost',
};

/** QUERY_TOO_COMPLEX: over `max` of `limit` (`found` when it was counted to the end). */
export function tooComplex(
  limit: QueryLimitName,
  max: number,
  found?: number,
  nodes?: readonly ASTNode[],
): GraphQLError {
  const seen = found === undefined ? '' : ` (found ${found})`;
  return createGraphQLError(`The request is over the limit of ${max} ${WHAT[limit]}${seen}`, {
    ...(nodes ? { nodes } : {}),
    extensions: typedExtensions('QUERY_TOO_COMPLEX', { limit, max, ...(found === undefined ? {} : { found }) }),
  });
}

/** `extensions` of a refusal; `http` is read by yoga for the status and headers and not sent. */
export function typedExtensions(
  code: ErrorCode,
  details: Record<string, unknown>,
  http?: { status: number; headers?: Record<string, string> },
): Record<string, unknown> {
  return { ...details, code, ...(http ? { http } : {}) };
}
