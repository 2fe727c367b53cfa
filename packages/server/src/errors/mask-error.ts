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
  if (!isSlipwayError(cause)) {
    // graphql-js refusing a variable (`Variable "$f" got invalid value …`, `… was not provided`)
    // is the client's input: give it the code and field every other input refusal has.
    if (isGraphQLError(error) && error.extensions?.code === undefined && /^Variable "\$/.test(error.message)) {
      return createGraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: { ...error.extensions, code: 'VALIDATION_FAILED', field: inputPath(error.message) ?? 'variables' },
      });
    }
    return yogaMaskError(error, message, false);
  }
  const located = isGraphQLError(error) ? error : undefined;
  // A scalar that refused a variable: graphql-js's message says where (`at "input.amount"`).
  const coercion = located && cause.code === 'VALIDATION_FAILED' && located.message !== cause.message;
  const field = coercion ? inputPath(located.message) : undefined;
  return createGraphQLError(coercion ? located.message : cause.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: {
      ...cause.details,
      ...(field && cause.details.field === undefined ? { field } : {}),
      code: cause.code,
    },
  });
}

/** `Variable "$input" got invalid value 1.5 at "input.amount"; …` → `input.amount` (or `input` when at the top). */
function inputPath(message: string): string | undefined {
  const match = /^Variable "\$([^"]+)" got invalid value .*?(?: at "([^"]+)")?;/s.exec(message);
  return match ? (match[2] ?? match[1]) : /^Variable "\$([^"]+)"/.exec(message)?.[1];
}
