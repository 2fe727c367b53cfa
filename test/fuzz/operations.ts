/**
 * One generated operation per Query and Mutation field of the live schema: its arguments from
 * schema-arbitraries.ts, sent as variables or as literals in the document, with a selection
 * set built from the result type (scalars, unions with `... on Error { code message }`,
 * `__typename` everywhere so answers can be harvested).
 */
import { printSchemaSdl } from '@slipway/server';
import fc from 'fast-check';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';
import type { ActorName } from './harness.js';
import { ABSENT, type ArgValue, actorArb, inputArb, type Level, levelArb } from './schema-arbitraries.js';
import { type Gen, Raw, Ref, toRequestBody } from './values.js';
import type { World } from './world.js';

export const schema = buildSchema(printSchemaSdl());

export type RootKind = 'query' | 'mutation';

export interface Operation {
  root: RootKind;
  field: string;
  actor: ActorName;
  level: Level;
  literals: boolean;
  args: Array<{ name: string; value: ArgValue }>;
}

/** Fields only an admin may call: a user must never get data from them. */
export const ADMIN_ONLY = new Set([
  'account',
  'hosts',
  'orphanSweeps',
  'poolAllocations',
  'grantCredits',
  'refreshPool',
]);

/** How often each field is drawn: creates and operations on resources most, so real paths run. */
const WEIGHTS: Record<string, number> = {
  createResource: 8,
  grantCredits: 3,
  resourceAction: 3,
  releaseResource: 3,
  resources: 3,
  resource: 2,
  quote: 2,
  resizeResource: 2,
  attachDevice: 2,
  detachDevice: 2,
  updateResourceMetadata: 2,
};

function rootFields(root: RootKind): Array<GraphQLField<unknown, unknown>> {
  const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
  return type ? Object.values(type.getFields()) : [];
}

export const FIELDS: ReadonlyArray<{ root: RootKind; field: GraphQLField<unknown, unknown> }> = [
  ...rootFields('query').map((field) => ({ root: 'query' as const, field })),
  ...rootFields('mutation').map((field) => ({ root: 'mutation' as const, field })),
];

function fieldOp(root: RootKind, field: GraphQLField<unknown, unknown>): fc.Arbitrary<Operation> {
  // Admin-only fields mostly as the admin, so their real paths run too.
  const actor = ADMIN_ONLY.has(field.name)
    ? fc.oneof({ arbitrary: fc.constant<ActorName>('root'), weight: 4 }, actorArb)
    : actorArb;
  return fc.tuple(actor, levelArb, fc.integer({ min: 0, max: 3 })).chain(([actor, level, lit]) =>
    fc.tuple(...field.args.map((a) => inputArb(a.type, `${field.name}(${a.name})`, level))).map(
      (values): Operation => ({
        root,
        field: field.name,
        actor,
        level,
        literals: lit === 0,
        args: field.args.map((a, i) => ({ name: a.name, value: values[i] ?? ABSENT })),
      }),
    ),
  );
}

export const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  ...FIELDS.map(({ root, field }) => ({ arbitrary: fieldOp(root, field), weight: WEIGHTS[field.name] ?? 1 })),
);

// ---- selection sets ---------------------------------------------------------------------

const selections = new Map<string, string>();

function objectSelection(type: GraphQLObjectType, depth: number): string {
  const parts = ['__typename'];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(f.type);
    if (isObjectType(named) || isUnionType(named) || isInterfaceType(named)) {
      if (depth < 3) parts.push(`${f.name} ${selectionFor(f.type, depth + 1)}`);
    } else parts.push(f.name);
  }
  return `{ ${parts.join(' ')} }`;
}

/** The selection set for a field of `type` ('' for scalars and enums). */
export function selectionFor(type: GraphQLOutputType, depth = 0): string {
  const named: GraphQLNamedType = getNamedType(type);
  const key = `${named.name}@${depth}`;
  const cached = selections.get(key);
  if (cached !== undefined) return cached;
  let out = '';
  if (isObjectType(named)) out = objectSelection(named, depth);
  else if (isUnionType(named) || isInterfaceType(named)) {
    const members = isUnionType(named) ? named.getTypes() : schema.getPossibleTypes(named);
    const inline = members.map((m) => `... on ${m.name} ${objectSelection(m, depth)}`);
    out = `{ __typename ... on Error { code message } ${inline.join(' ')} }`;
  }
  selections.set(key, out);
  return out;
}

// ---- documents --------------------------------------------------------------------------

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** `value` as a GraphQL literal of `type`, or undefined when a literal cannot say it (a key that is no name). */
export function literal(value: Gen, type: GraphQLInputType | undefined): string | undefined {
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (value instanceof Raw) return value.literal;
  if (value instanceof Ref) throw new Error(`unresolved ${value}`);
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string') {
    const bare = inner && isEnumType(inner) && NAME.test(value) && !['true', 'false', 'null'].includes(value);
    return bare ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    const of = inner && isListType(inner) ? inner.ofType : inner;
    const items = value.map((v) => literal(v, of));
    return items.some((i) => i === undefined) ? undefined : `[${items.join(', ')}]`;
  }
  const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const text = NAME.test(k) ? literal(v, fields[k]?.type) : undefined;
    if (text === undefined) return undefined;
    parts.push(`${k}: ${text}`);
  }
  return `{${parts.join(', ')}}`;
}

/** The request body of `op`, its markers resolved against `world` for the op's actor. */
export function requestBody(op: Operation, world: World): string {
  const field = FIELDS.find((f) => f.root === op.root && f.field.name === op.field)?.field;
  if (!field) throw new Error(`no field ${op.field}`);
  const declared: string[] = [];
  const passed: string[] = [];
  const variables: Record<string, Gen> = {};
  for (const [i, { name, value }] of op.args.entries()) {
    const arg = field.args.find((a) => a.name === name);
    if (!arg) continue;
    if (value === ABSENT) {
      // Leave it out; as a variable half the time: declared and never given.
      if (!op.literals && i % 2 === 1) {
        declared.push(`$a${i}: ${String(arg.type)}`);
        passed.push(`${name}: $a${i}`);
      }
      continue;
    }
    const resolved = world.resolve(value, op.actor);
    const text = op.literals ? literal(resolved, arg.type) : undefined;
    if (text !== undefined) passed.push(`${name}: ${text}`);
    else {
      declared.push(`$a${i}: ${String(arg.type)}`);
      passed.push(`${name}: $a${i}`);
      variables[`a${i}`] = resolved;
    }
  }
  const vars = declared.length > 0 ? `(${declared.join(', ')})` : '';
  const args = passed.length > 0 ? `(${passed.join(', ')})` : '';
  const query = `${op.root} Fuzz${vars} { ${op.field}${args} ${selectionFor(field.type)} }`;
  return toRequestBody(query, variables);
}

/** A short, readable description of an operation for failure messages. */
export function describeOp(op: Operation, body: string): string {
  const shown = body.length > 1500 ? `${body.slice(0, 1500)}… (${body.length} chars)` : body;
  return `${op.actor} ${op.root} ${op.field} (level ${op.level}${op.literals ? ', literals' : ''}): ${shown}`;
}
