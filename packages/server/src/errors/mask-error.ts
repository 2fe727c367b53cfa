/**
 * yoga's error mask: an expected failure (SlipwayError, including the auth scopes'
 * UNAUTHENTICATED/FORBIDDEN) keeps its message and gets `extensions.code` plus its
 * client-safe details (`field`, `required`, …); anything else becomes "Unexpected error."
 * and is logged, never shown.
 *
 * GraphQL errors are recognised by name, not `instanceof`: under vitest this module and
 * yoga can load different copies of graphql (index.mjs vs index.js).
 */
import { isSlipwayError, type Logger } from '@slipway/core';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';

const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === 'GraphQLError';

/** The error a resolver threw, beneath graphql-js's located wrappers. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

export function createMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const cause = rootCause(error);
    if (isSlipwayError(cause)) {
      const located = isGraphQLError(error) ? error : undefined;
      return createGraphQLError(cause.message, {
        nodes: located?.nodes,
        source: located?.source,
        positions: located?.positions,
        path: located?.path,
        extensions: { ...cause.details, code: cause.code },
      });
    }
    const masked = yogaMaskError(error, message, false);
    if (masked !== error) {
      logger.error('unexpected error', {
        path: isGraphQLError(error) ? error.path?.join('.') : undefined,
        error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
      });
    }
    return masked;
  };
}
