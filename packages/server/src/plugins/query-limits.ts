/**
 * What one GraphQL document may ask for, from GraphQL Armor's plugins: tokens (counted while
 * the document is parsed, so a 30,000-token document is dropped after the first few thousand),
 * then depth, aliases and directives as validation rules, then the cost (./query-cost.ts) once
 * the variables are known. Armor's own errors carry no code: every rejection is reported as
 * our QUERY_TOO_COMPLEX instead (./refusal.ts), with the limit it crossed.
 *
 * Also here, by configuration: introspection (off: VALIDATION_FAILED naming `__schema` or
 * `__type`) and graphql-js's "Did you mean …?" suggestions.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { LIMITS, type Logger } from '@slipway/core';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { createGraphQLError, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import type { QueryLimits } from '../config.js';
import { nestingLimitPlugin } from './nesting-limit.js';
import { noSuggestionsPlugin } from './no-suggestions.js';
import { queryCostPlugin } from './query-cost.js';
import { type QueryLimitName, tooComplex } from './refusal.js';

export interface QueryLimitOptions extends Omit<QueryLimits, 'maxBodyBytes'> {
  introspection: boolean;
  fieldSuggestions: boolean;
  logger: Logger;
}

export function queryLimitPlugins(options: QueryLimitOptions): Plugin[] {
  const rules: ValidationRule[] = [
    // Flattened: a fragment is as deep as the fields it holds, as if written inline.
    maxDepthRule({ n: options.maxDepth, flattenFragments: true, ...reportAs('depth', options.maxDepth) }),
    maxAliasesRule({ n: options.maxAliases, ...reportAs('aliases', options.maxAliases) }),
    maxDirectivesRule({ n: options.maxDirectives, ...reportAs('directives', options.maxDirectives) }),
    ...(options.introspection ? [] : [noIntrospection]),
  ];
  return [
    maxTokensPlugin<YogaInitialContext>({
      n: options.maxTokens,
      propagateOnRejection: false,
      // Thrown from inside the lexer: parsing stops at the first token over the limit.
      onReject: [
        () => {
          throw tooComplex('tokens', options.maxTokens);
        },
      ],
    }),
    // Brackets nested far deeper than the depth and input limits allow, yet well within the parser's
    // stack (~2,000): refused before parsing. JSON a few hundred deep still reaches the input
    // policy, which names the field.
    nestingLimitPlugin(2 * (options.maxDepth + LIMITS.input.jsonMaxDepth) + 512),
    {
      onValidate({ addValidationRule }) {
        for (const rule of rules) addValidationRule(rule);
      },
    },
    ...(options.fieldSuggestions ? [] : [noSuggestionsPlugin()]),
    // A document fanning fragments out past this many selections is refused before it is costed.
    queryCostPlugin({
      maxCost: options.maxCost,
      maxQueryNodes: Math.max(10_000, 2 * options.maxTokens),
      logger: options.logger,
    }),
  ];
}

/** Armor's callbacks: report our typed error instead of throwing its untyped one. */
function reportAs(limit: QueryLimitName, max: number) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        context?.reportError(tooComplex(limit, max, foundIn(error.message)));
      },
    ],
  };
}

/** Armor's messages end in "…, found 123." when they counted; keep the number for clients. */
function foundIn(message: string): number | undefined {
  const found = /found (\d+)\.?$/.exec(message)?.[1];
  return found === undefined ? undefined : Number(found);
}

/** Introspection off: `__schema` and `__type` are refused (`__typename` stays: clients need it for unions). */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name !== '__schema' && name !== '__type') return;
    context.reportError(
      createGraphQLError(`${name}: introspection is disabled on this server`, {
        nodes: [node],
        extensions: { code: 'VALIDATION_FAILED', field: name },
      }),
    );
  },
});
