/**
 * Field suggestions off: graphql-js's "Did you mean …?" hints name fields, arguments, enum
 * values and input fields a client did not ask about, which is the schema that turning
 * introspection off hides. GraphQL Armor's plugin strips only `Did you mean "x"?` from
 * validation errors; graphql-js also says `Did you mean the enum value "X"?` and
 * `Did you mean to use an inline fragment on "T"?`, and reports the same hints while
 * coercing variables at execution. Every form is dropped from every error of a result.
 */
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

// Names never hold `?`, so the hint ends at the first one.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function strip(errors: readonly Error[] | undefined): void {
  for (const error of errors ?? []) {
    if (error.message.includes('Did you mean')) error.message = error.message.replace(SUGGESTION, '');
  }
}

type Result = ExecutionResult | AsyncIterable<ExecutionResult>;

/** A single result is cleaned now; a stream, event by event. */
function cleanResult(result: Result) {
  if (!isAsyncIterable(result)) {
    strip(result.errors);
    return undefined;
  }
  return {
    onNext({ result: next }: { result: ExecutionResult }) {
      strip(next.errors);
    },
  };
}

export function noSuggestionsPlugin(): Plugin {
  return {
    onValidate:
      () =>
      ({ result }) =>
        strip(result),
    onExecute: () => ({ onExecuteDone: ({ result }) => cleanResult(result) }),
    onSubscribe: () => ({ onSubscribeResult: ({ result }) => cleanResult(result) }),
  };
}
