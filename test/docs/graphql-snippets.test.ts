/**
 * The GraphQL in the docs matches the server's schema: every ```graphql operation validates,
 * every type it restates has those fields with those types, and every request body of the
 * curl examples (`'{"query": …, "variables": …}'`) validates with its variables.
 * Running the curl session itself needs a server and a shell; these checks catch what
 * usually drifts: renamed fields, types and inputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '@slipway/server';
import {
  buildSchema,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  getVariableValues,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  validate,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentationPages, fencedBlocks } from '../support/doc-snippets.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// Rebuilt from the printed SDL with this file's graphql module (Pothos may load another copy of it).
const schema = buildSchema(printSchemaSdl());

interface GraphQLSample {
  where: string;
  query: string;
  variables?: Record<string, unknown>;
}

/** graphql blocks, and the JSON request bodies in single quotes of sh/bash blocks. */
function samples(): { documents: GraphQLSample[]; bodies: GraphQLSample[] } {
  const documents: GraphQLSample[] = [];
  const bodies: GraphQLSample[] = [];
  for (const page of documentationPages(repoRoot)) {
    for (const block of fencedBlocks(readFileSync(join(repoRoot, page), 'utf8'))) {
      const language = block.info.split(/\s+/)[0];
      const where = `${page}:${block.line}`;
      if (language === 'graphql') documents.push({ where, query: block.code });
      if (language !== 'bash' && language !== 'sh') continue;
      for (const match of block.code.matchAll(/'(\{[^']*\})'/g)) {
        const body = JSON.parse(match[1] as string) as { query?: unknown; variables?: Record<string, unknown> };
        if (typeof body.query === 'string') bodies.push({ where, query: body.query, variables: body.variables ?? {} });
      }
    }
  }
  return { documents, bodies };
}

/** Problems of one sample: validation errors, variables that do not coerce, restated types that differ. */
function problems(sample: GraphQLSample): string[] {
  const document = parse(sample.query);
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const found = operations.length > 0 ? validate(schema, document).map((e) => e.message) : [];
  for (const operation of operations) {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], sample.variables ?? {});
    found.push(...(coerced.errors ?? []).map((e) => e.message));
  }
  found.push(...restatedTypeProblems(schema, document));
  return found.map((message) => `${sample.where}: ${message}`);
}

/** A type definition in the docs (`interface Error { code: ErrorCode! … }`) must match the schema's. */
function restatedTypeProblems(s: GraphQLSchema, document: DocumentNode): string[] {
  const out: string[] = [];
  for (const definition of document.definitions as readonly DefinitionNode[]) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INPUT_OBJECT_TYPE_DEFINITION
    ) {
      continue;
    }
    const type = s.getType(definition.name.value);
    if (!isObjectType(type) && !isInterfaceType(type) && !isInputObjectType(type)) {
      out.push(`type ${definition.name.value} is not in the schema`);
      continue;
    }
    const fields = type.getFields();
    for (const field of definition.fields ?? []) {
      const actual = fields[field.name.value]?.type.toString();
      const documented = print(field.type);
      if (actual !== documented)
        out.push(`${type.name}.${field.name.value}: docs say ${documented}, schema has ${actual}`);
    }
  }
  return out;
}

describe('GraphQL in the docs', () => {
  const { documents, bodies } = samples();

  it('finds the samples', () => {
    // A guard for the extraction itself: the API guide has both kinds.
    expect(documents.some((d) => d.where.startsWith('docs/graphql-api.md'))).toBe(true);
    expect(bodies.filter((b) => b.where.startsWith('docs/graphql-api.md')).length).toBeGreaterThanOrEqual(5);
  });

  it('graphql blocks validate against the schema', () => {
    expect(documents.flatMap(problems)).toEqual([]);
  });

  it('request bodies of the curl examples validate, with their variables', () => {
    expect(bodies.flatMap(problems)).toEqual([]);
  });
});
