/**
 * What every answer must be: JSON with `data` or `errors`, each error carrying a typed code
 * (the core's ERROR_CODES or one of GraphQL's own), never INTERNAL_SERVER_ERROR or the
 * masked "Unexpected error."; an admin-only field never answers a user with data.
 */
import { ERROR_CODES } from '@slipway/core';
import type { Answer } from './harness.js';
import { ADMIN_ONLY, type Operation } from './operations.js';

/** Codes GraphQL itself (graphql-js, yoga) and the server's plugins may answer. */
export const GRAPHQL_CODES = [
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
] as const;

export const KNOWN_CODES: ReadonlySet<string> = new Set([...Object.keys(ERROR_CODES), ...GRAPHQL_CODES]);

interface WireError {
  message?: unknown;
  extensions?: { code?: unknown };
}

/** Every way `answer` breaks the contract (empty when it is fine). */
export function answerProblems(answer: Answer, op: Operation | null, _requestBody: string): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`HTTP ${answer.status}`);
  const body = answer.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return [...problems, `not a JSON object: ${answer.text.slice(0, 300)}`];
  }
  const o = body as { data?: unknown; errors?: unknown };
  if (!('data' in o) && !('errors' in o)) problems.push(`neither data nor errors: ${answer.text.slice(0, 300)}`);
  const errors = Array.isArray(o.errors) ? (o.errors as WireError[]) : [];
  for (const e of errors) {
    const code = e.extensions?.code;
    const message = String(e.message);
    if (code === 'INTERNAL_SERVER_ERROR' || message === 'Unexpected error.') {
      problems.push(`INTERNAL_SERVER_ERROR: ${message}`);
    } else if (code === undefined) {
      problems.push(`untyped error: ${message.slice(0, 300)}`);
    } else if (typeof code !== 'string' || !KNOWN_CODES.has(code)) {
      problems.push(`unknown code ${String(code)}: ${message.slice(0, 300)}`);
    }
  }
  if (op && (op.actor === 'alice' || op.actor === 'bob') && ADMIN_ONLY.has(op.field)) {
    const data = (o.data ?? null) as Record<string, unknown> | null;
    const value = data?.[op.field] as { __typename?: string } | null | undefined;
    if (value != null && !String(value.__typename ?? '').endsWith('Error')) {
      problems.push(`user ${op.actor} got data from admin-only ${op.field}`);
    }
  }
  return problems;
}

/** The `data` of an answer, if any. */
export const dataOf = (answer: Answer): unknown =>
  answer.body !== null && typeof answer.body === 'object' ? (answer.body as { data?: unknown }).data : undefined;
