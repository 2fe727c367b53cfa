/** The Pothos schema builder. Types live in ./schema/*, one file each. */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { SlipwayError } from '@slipway/core';
import { unauthenticatedError } from './auth.js';
import type { GraphQLContext } from './context.js';

export interface SchemaTypes {
  Context: GraphQLContext;
  AuthScopes: { authenticated: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    Credits: { Input: number; Output: number };
    BigInt: { Input: bigint; Output: number | bigint | string };
  };
  // Non-null unless a field says `nullable: true`: the schema then documents what is always there.
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}

// Input validation is core's job (its zod schemas throw VALIDATION_FAILED naming the field),
// so there is no plugin-validation here: one source of truth for what a valid request is.
export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ErrorsPlugin, RelayPlugin, ScopeAuthPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.actor !== null,
      admin: ctx.actor?.role === 'admin',
    }),
    // Anonymous callers get UNAUTHENTICATED, signed-in callers without the role FORBIDDEN; as
    // plain SlipwayErrors they are never union members, always top-level with extensions.code.
    unauthorizedError: (_parent, ctx) => {
      if (ctx.actor === null) return unauthenticatedError(ctx.tokenProblem);
      return new SlipwayError('FORBIDDEN', 'This operation needs the admin role');
    },
  },
  relay: {
    // Resources are fetched by their own ids; no global Node interface.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});
