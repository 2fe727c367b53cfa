/**
 * yoga's error mask: an expected failure (SlipwayError, including the auth scopes'
 * UNAUTHENTICATED/FORBIDDEN) keeps its message and gets `extensions.code` plus its
 * client-safe details (`field`, `required`, …); anything else becomes "Unexpected error."
 * (yoga logs the original through ./yoga-logger.ts), never shown to the client.
 *
 * GraphQL errors are recognised by name, not `instanceof`: under vitest this module and
 * yoga can load different copies of graphql (index.mjs vs index.js).
 */
import { isSlipwayError } from '@slipway/core';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';

export const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === 'GraphQLError';

/** The error a resolver threw, beneath graphql-js's located wrappers. */
export function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

export function maskError(error: unknown, message: string): Error {
  const cause = rootCause(error);
  if (!isSlipwayError(cause)) return yogaMaskError(error, message, false);
  const located = isGraphQLError(error) ? error : undefined;
  return createGraphQLError(cause.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { ...cause.details, code: cause.code },
  });
}
