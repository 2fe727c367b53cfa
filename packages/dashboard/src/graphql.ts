/** Typed documents: gql.tada reads packages/server/schema.graphql (via the generated graphql-env.d.ts). */
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { DateTime: string; Credits: number; JSON: unknown; ID: string; BigInt: string };
}>();

export type { ResultOf, VariablesOf } from 'gql.tada';
