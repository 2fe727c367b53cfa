/**
 * Arbitraries for every argument type of the schema, read from the live schema (printed SDL,
 * rebuilt with this module's graphql so type checks never cross copies). Each operation has a
 * level: 0 = valid values only (real paths run: creates on 'demo', grants, operations on
 * existing ids); 1 = mostly valid with the odd boundary or hostile leaf and structural
 * mistakes; 2 = hostile throughout.
 */
import { LIMITS } from '@slipway/core';
import fc from 'fast-check';
import {
  type GraphQLInputObjectType,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
} from 'graphql';
import { ACTORS, type ActorName } from './harness.js';
import {
  BIGINT_BOUNDARY,
  boundaryString,
  CREDITS_BOUNDARY,
  dateBoundary,
  FLOAT_BOUNDARY,
  type Gen,
  hostileJson,
  hostileString,
  ID_BOUNDARY,
  INT_BOUNDARY,
  jsonObject,
  ref,
  smallJson,
  wrongType,
} from './values.js';

export type Level = 0 | 1 | 2;
/** An argument left out, or (as a variable) declared and not given. */
export const ABSENT = Symbol('absent');
export type ArgValue = Gen | typeof ABSENT;

const NOW = Date.now();
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const future = fc.integer({ min: 1, max: 300 * 24 }).map((h): Gen => new Date(NOW + h * 3_600_000).toISOString());

/** Mostly-valid values by `Type.field` (input fields) or `field(arg)` / `(arg)` (root arguments). */
const VALID: Record<string, fc.Arbitrary<Gen>> = {
  '(id)': fc.oneof({ arbitrary: ref('ownResource'), weight: 5 }, { arbitrary: ref('anyResource'), weight: 2 }),
  '(deviceId)': fc.oneof(ref('device'), fc.constantFrom<Gen>('disk-1', 'nic-1')),
  '(resourceId)': fc.oneof(ref('ownResource'), ref('anyResource')),
  '(ownerId)': ref('account'),
  'account(id)': ref('account'),
  'resources(after)': ref('cursor'),
  'resources(first)': fc.integer({ min: 1, max: 100 }),
  'resources(provisioner)': fc.constantFrom<Gen>('demo', 'pool'),
  'events(after)': fc.oneof(ref('seq'), fc.integer({ min: 0, max: 50 })),
  'events(first)': fc.integer({ min: 1, max: 500 }),
  '(provisioner)': fc.constant<Gen>('pool'),
  'CreateResourceInput.name': name,
  'CreateResourceInput.provisioner': fc.oneof(
    { arbitrary: fc.constant<Gen>('demo'), weight: 6 },
    { arbitrary: fc.constant<Gen>('pool'), weight: 1 },
  ),
  'CreateResourceInput.requestId': fc.oneof(
    fc.integer({ min: 0, max: 6 }).map((i): Gen => `req-${i}`),
    fc.uuid(),
  ),
  'CreateResourceInput.ttlSeconds': fc.integer({ min: 60, max: 30 * 86_400 }),
  'CreateResourceInput.expiresAt': future,
  'CreateResourceInput.host': fc.constant<Gen>(null),
  'CreateResourceInput.labels': fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), name, { maxKeys: 3 }),
  'CreateResourceInput.metadata': jsonObject,
  'CreateResourceInput.options': fc.constantFrom<Gen>({}, { fail: true }, { delayMs: 0 }, { delayMs: 20 }),
  'SpecInput.vcpu': fc.constantFrom<Gen>(0.5, 1, 2, 4),
  'SpecInput.memoryMb': fc.constantFrom<Gen>(512, 1024, 2048, 4096),
  'SpecInput.diskGb': fc.integer({ min: 0, max: 50 }),
  'SpecInput.cpu': fc.constantFrom<Gen>('500m', '1', '2'),
  'SpecInput.memory': fc.constantFrom<Gen>('512Mi', '1Gi', '2Gi'),
  'SpecInput.image': fc.constantFrom<Gen>('ubuntu-24.04', 'debian-12'),
  'SpecInput.osType': fc.constantFrom<Gen>('linux', 'windows'),
  'GrantCreditsInput.accountId': ref('account'),
  'GrantCreditsInput.amount': fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 100_000 }), weight: 4 },
    { arbitrary: fc.integer({ min: -500, max: -1 }), weight: 1 },
  ),
  'GrantCreditsInput.note': fc.string({ maxLength: 30 }),
  'ResizeInput.vcpu': fc.constantFrom<Gen>(1, 2, 4, 8),
  'ResizeInput.memoryMb': fc.constantFrom<Gen>(512, 1024, 4096, 8192),
  'AttachDeviceInput.id': fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
  'AttachDeviceInput.sizeGb': fc.integer({ min: 1, max: 100 }),
  'updateResourceMetadata(patch)': fc.dictionary(name, fc.oneof(smallJson, fc.constant(null)), { maxKeys: 4 }),
};

const { spec, ttlSeconds, devices } = LIMITS;
const edges = (min: number, max: number, step = 1): Gen[] => [min, min - step, max, max + step];

/** Values at the edges of LIMITS, by the same keys as VALID. */
const BOUNDARY: Record<string, readonly Gen[]> = {
  'SpecInput.vcpu': [...edges(spec.vcpuMin, spec.vcpuMax, spec.vcpuMin / 2), 0, -1],
  'SpecInput.memoryMb': [...edges(spec.memoryMbMin, spec.memoryMbMax), 0, -1],
  'SpecInput.diskGb': [...edges(0, spec.diskGbMax), 65_536_000],
  'SpecInput.cpu': ['1m', '0.5m', '512', '513', '1e3', '1.5', ' 2 ', '-1', '2Gi'],
  'SpecInput.memory': ['64Mi', '63Mi', '4Ti', '5Ti', '1e9', '1.5Gi', '0', '9999999Pi'],
  'ResizeInput.vcpu': [...edges(spec.vcpuMin, spec.vcpuMax, spec.vcpuMin / 2), 0],
  'ResizeInput.memoryMb': [...edges(spec.memoryMbMin, spec.memoryMbMax), 0],
  'AttachDeviceInput.sizeGb': [...edges(1, devices.diskGbMax), -1],
  'CreateResourceInput.ttlSeconds': edges(ttlSeconds.min, ttlSeconds.max),
  'resources(first)': edges(1, LIMITS.resourcePage.maxSize),
  'events(first)': edges(1, LIMITS.eventPage.maxSize),
};

const SCALAR_VALID: Record<string, fc.Arbitrary<Gen>> = {
  String: name,
  ID: ref('ownResource'),
  Int: fc.integer({ min: 0, max: 100 }),
  Float: fc.double({ min: 0.5, max: 8, noNaN: true }),
  Boolean: fc.boolean(),
  DateTime: future,
  JSON: jsonObject,
  Credits: fc.integer({ min: -100, max: 100_000 }),
  BigInt: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String)),
};

const SCALAR_BOUNDARY: Record<string, fc.Arbitrary<Gen>> = {
  String: boundaryString,
  ID: ID_BOUNDARY,
  Int: fc.constantFrom(...INT_BOUNDARY),
  Float: fc.constantFrom(...FLOAT_BOUNDARY),
  Boolean: fc.constantFrom<Gen>(true, false),
  DateTime: dateBoundary(NOW),
  JSON: fc.oneof(fc.constantFrom<Gen>({}, [], null, 0, '', 'x'), smallJson),
  Credits: fc.constantFrom(...CREDITS_BOUNDARY),
  BigInt: fc.constantFrom(...BIGINT_BOUNDARY),
};

function scalarHostile(scalar: string): fc.Arbitrary<Gen> {
  if (scalar === 'JSON') return hostileJson;
  if (scalar === 'String' || scalar === 'ID' || scalar === 'DateTime') {
    return fc.oneof({ arbitrary: hostileString, weight: 4 }, { arbitrary: wrongType, weight: 1 });
  }
  return fc.oneof(wrongType, hostileString);
}

const MIX: Record<Level, [number, number, number]> = { 0: [1, 0, 0], 1: [14, 2, 1], 2: [1, 2, 3] };

function mix(level: Level, valid: fc.Arbitrary<Gen>, boundary: fc.Arbitrary<Gen>, hostile: fc.Arbitrary<Gen>) {
  const [v, b, h] = MIX[level];
  if (b === 0 && h === 0) return valid;
  return fc.oneof(
    { arbitrary: valid, weight: v },
    { arbitrary: boundary, weight: b },
    { arbitrary: hostile, weight: h },
  );
}

/** Values of `type` at `key` (see VALID) for an operation of `level`; ABSENT only for nullable types. */
export function inputArb(type: GraphQLInputType, key: string, level: Level): fc.Arbitrary<ArgValue> {
  if (isNonNullType(type)) {
    const inner = valueArb(type.ofType, key, level);
    return level === 0
      ? inner
      : fc.oneof({ arbitrary: inner, weight: 25 }, fc.constant<ArgValue>(ABSENT), fc.constant(null));
  }
  const inner = valueArb(type, key, level);
  const leaveOut = level === 0 ? 4 : 2;
  return fc.oneof(
    { arbitrary: inner, weight: 4 },
    { arbitrary: fc.constant<ArgValue>(ABSENT), weight: leaveOut },
    { arbitrary: fc.constant<ArgValue>(null), weight: 1 },
  );
}

function valueArb(type: GraphQLInputType, key: string, level: Level): fc.Arbitrary<Gen> {
  const hint = VALID[key] ?? VALID[key.replace(/^[^(]*\(/, '(')];
  if (isNonNullType(type)) return valueArb(type.ofType, key, level);
  if (isListType(type)) {
    const item = inputArb(type.ofType, key, level).map((v) => (v === ABSENT ? null : v));
    const list = fc.array(item, { maxLength: 4 });
    return level === 0 ? list : fc.oneof({ arbitrary: list, weight: 6 }, item, wrongType);
  }
  if (isEnumType(type)) {
    const values = fc.constantFrom<Gen>(...type.getValues().map((v) => v.name));
    return mix(level, values, values, fc.constantFrom<Gen>('NOPE', 'vm', '', 1, 'running'));
  }
  if (isInputObjectType(type)) {
    const obj = hint ?? objectArb(type, level);
    return level === 0 ? obj : fc.oneof({ arbitrary: obj, weight: 8 }, wrongType);
  }
  const scalar = type.name;
  const valid = hint ?? SCALAR_VALID[scalar] ?? fc.constant<Gen>(null);
  const generic = SCALAR_BOUNDARY[scalar] ?? wrongType;
  const limits = BOUNDARY[key] ?? BOUNDARY[key.replace(/^[^(]*\(/, '(')];
  const boundary = limits ? fc.oneof({ arbitrary: fc.constantFrom(...limits), weight: 2 }, generic) : generic;
  return mix(level, valid, boundary, scalarHostile(scalar));
}

function objectArb(type: GraphQLInputObjectType, level: Level): fc.Arbitrary<Gen> {
  const fields = Object.values(type.getFields());
  // SpecInput: give vcpu/memoryMb or the Kubernetes quantities, as a client would.
  const skip = (f: string, kubernetes: boolean) =>
    type.name === 'SpecInput' && level === 0 && (kubernetes ? ['vcpu', 'memoryMb'] : ['cpu', 'memory']).includes(f);
  const entries = (kubernetes: boolean) =>
    fc.tuple(
      ...fields.map((f) => {
        const required = isNonNullType(f.type) && f.defaultValue === undefined;
        const core = type.name === 'SpecInput' && ['vcpu', 'memoryMb', 'cpu', 'memory', 'diskGb'].includes(f.name);
        const key = `${type.name}.${f.name}`;
        let arb: fc.Arbitrary<ArgValue>;
        if (skip(f.name, kubernetes)) arb = fc.constant(ABSENT);
        else if ((required || core) && level === 0) arb = valueArb(f.type, key, level);
        else arb = inputArb(f.type, key, level);
        return arb.map((v): [string, ArgValue] => [f.name, v]);
      }),
    );
  const extra =
    level === 0
      ? fc.constant(undefined)
      : fc.option(fc.constantFrom('bogus', 'ownerId', 'cost', '__proto__'), { freq: 6 });
  return fc.tuple(fc.boolean(), extra).chain(([kubernetes, x]) =>
    fc
      .tuple(entries(kubernetes), x === undefined || x === null ? fc.constant(null) : smallJson)
      .map(([pairs, extraValue]) => {
        const out = JSON.parse('{}') as Record<string, Gen>;
        for (const [k, v] of pairs) if (v !== ABSENT) out[k] = v;
        if (typeof x === 'string')
          Object.defineProperty(out, x, { value: extraValue, enumerable: true, writable: true });
        return out;
      }),
  );
}

export const actorArb: fc.Arbitrary<ActorName> = fc.oneof(
  { arbitrary: fc.constantFrom<ActorName>('alice', 'bob'), weight: 8 },
  { arbitrary: fc.constant<ActorName>('root'), weight: 4 },
  { arbitrary: fc.constantFrom<ActorName>(...ACTORS.filter((a) => !['alice', 'bob', 'root'].includes(a))), weight: 1 },
);

export const levelArb: fc.Arbitrary<Level> = fc.oneof(
  { arbitrary: fc.constant<Level>(0), weight: 5 },
  { arbitrary: fc.constant<Level>(1), weight: 3 },
  { arbitrary: fc.constant<Level>(2), weight: 2 },
);
