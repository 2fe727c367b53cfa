/**
 * The cost limit: graphql-query-complexity with an estimator where a list field costs its
 * page size times its selection. It runs when an operation is executed, with its variables
 * (`resources(first: $n)` costs what `$n` asks for), so the validation cache, which is keyed
 * by document alone, never lets a cheap first request vouch for an expensive second one.
 */
import { errorMessage, LIMITS, type Logger } from '@slipway/core';
import type { GraphQLOutputType } from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { tooComplex } from './refusal.js';

/** Paginated fields: `first` (or `last`) is clamped into [1, maxSize] as the core does; absent, defaultSize. */
const PAGES: Record<string, { defaultSize: number; maxSize: number }> = {
  'Query.resources': LIMITS.resourcePage,
  'Query.events': LIMITS.eventPage,
};

/** Lists of a known bound: a connection's edges are its page (counted above), devices at most maxCount. */
const FIXED_SIZES: Record<string, number> = {
  'ResourceConnection.edges': 1,
  'Resource.devices': LIMITS.devices.maxCount,
};

/** The assumed length of any other list of objects (admin lists: hosts, provisioners, pools). */
export const UNPAGED_LIST_SIZE = 10;

/**
 * 1 for the field itself plus its selection, times the number of items a list field returns
 * (a list of scalars has no selection: it costs 1).
 */
export const pageSizeEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // Introspection is governed by SLIPWAY_INTROSPECTION, not by cost.
  if (field.name === '__schema' || field.name === '__type') return 0;
  return 1 + itemsOf(`${type.name}.${field.name}`, field.type, args) * childComplexity;
};

function itemsOf(coordinate: string, type: GraphQLOutputType, args: Record<string, unknown>): number {
  const page = PAGES[coordinate];
  if (page) {
    // `first` or, for a page counted backwards (events newest first), `last`.
    const size = args.first ?? args.last;
    const first = typeof size === 'number' ? size : page.defaultSize;
    return Math.min(page.maxSize, Math.max(1, first));
  }
  const fixed = FIXED_SIZES[coordinate];
  if (fixed !== undefined) return fixed;
  return isList(type) ? UNPAGED_LIST_SIZE : 1;
}

/**
 * `[Item!]!` is a list. Read from the type's SDL form, not with graphql's isListType: under
 * vitest this module and the schema can load different copies of graphql (see mask-error.ts),
 * and graphql's instanceof checks throw across copies.
 */
const isList = (type: GraphQLOutputType): boolean => type.toString().startsWith('[');

const NODE_LIMIT_MESSAGE = 'Query exceeds the maximum allowed number of nodes.';

export function queryCostPlugin(options: { maxCost: number; maxQueryNodes: number; logger: Logger }): Plugin {
  const costOf = (args: {
    schema: Parameters<typeof getComplexity>[0]['schema'];
    document: Parameters<typeof getComplexity>[0]['query'];
    variableValues?: Record<string, unknown> | null | undefined;
    operationName?: string | null | undefined;
  }): number | 'too many nodes' | undefined => {
    try {
      return getComplexity({
        schema: args.schema,
        query: args.document,
        variables: args.variableValues ?? {},
        ...(args.operationName ? { operationName: args.operationName } : {}),
        estimators: [pageSizeEstimator],
        maxQueryNodes: options.maxQueryNodes,
      });
    } catch (error) {
      // Fragments spread over and over: too many selections to even count.
      if (error instanceof Error && error.message === NODE_LIMIT_MESSAGE) return 'too many nodes';
      // Variables that do not coerce (a GraphQLError): execution refuses them itself, with graphql-js's error.
      if (!(error instanceof Error && error.name === 'GraphQLError')) {
        options.logger.error('query cost not computed', { error: errorMessage(error) });
      }
      return undefined;
    }
  };
  const check = (args: Parameters<typeof costOf>[0]) => {
    const cost = costOf(args);
    if (cost === undefined || (cost !== 'too many nodes' && cost <= options.maxCost)) return undefined;
    return { errors: [tooComplex('cost', options.maxCost, cost === 'too many nodes' ? undefined : cost)] };
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}
