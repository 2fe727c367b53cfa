/** Builds the schema once: importing each type module registers it on the builder. */
import { fileURLToPath } from 'node:url';
import type { GraphQLSchema } from 'graphql';
// The explicit CommonJS entry is the copy Pothos and yoga load; vitest would otherwise hand this
// module graphql's index.mjs, and graphql refuses a schema built by the other copy.
import { lexicographicSortSchema, printSchema } from 'graphql/index.js';
import { builder } from '../builder.js';
import './scalars.js';
import './root.js';
import './errors.js';
import './account.js';
import './resource.js';
import './resource-operations.js';
import './quote.js';
import './event.js';
import './provisioner.js';
import './pool.js';
import './host.js';
import './orphan-sweep.js';
import './demo.js';
import './release-lag.js';

let schema: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema();
  return schema;
}

/** packages/server/schema.graphql: the committed SDL that a test keeps in step with the code. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

/** The SDL that `print-schema` writes to packages/server/schema.graphql. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
