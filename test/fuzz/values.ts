/**
 * What the fuzzer sends: plain JSON values plus two markers resolved late. A `Ref` names
 * something of the run's world (a resource id of the caller, another user's, a device, a
 * cursor) picked when the operation runs, so generated operations hit real rows. A `Raw` is
 * JSON text JSON.stringify cannot write (1e999, nesting deeper than its stack), with the
 * GraphQL literal that means the same.
 */
import { LIMITS } from '@slipway/core';
import fc from 'fast-check';

export type RefKind = 'ownResource' | 'anyResource' | 'device' | 'account' | 'cursor' | 'seq';

export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly pick: number,
  ) {}
  toString(): string {
    return `Ref(${this.kind}#${this.pick})`;
  }
}

export class Raw {
  constructor(
    readonly json: string,
    readonly literal: string,
    readonly label: string,
  ) {}
  toString(): string {
    return `Raw(${this.label})`;
  }
}

/** A generated value: JSON with markers anywhere. */
export type Gen = null | boolean | number | string | Ref | Raw | Gen[] | { [key: string]: Gen };

export const ref = (kind: RefKind): fc.Arbitrary<Gen> => fc.nat(1000).map((pick) => new Ref(kind, pick));

const MAX = LIMITS.input.stringMaxLength;
const DEPTH = LIMITS.input.jsonMaxDepth;

const nested = (depth: number): Raw =>
  new Raw(
    `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`,
    `${'{a:'.repeat(depth)}"x"${'}'.repeat(depth)}`,
    `nest${depth}`,
  );

export const INFINITY = new Raw('1e999', '1e999', '1e999');
export const NEG_INFINITY = new Raw('-1e999', '-1e999', '-1e999');

/** Any UTF-16 code unit, so lone surrogates and NUL turn up. */
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

export const HOSTILE_STRINGS: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\ud83d',
  "'; drop table resources; --",
  '%_\\',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, sent as is
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\r\n\t',
  '\u202eevil',
  '\ufeff',
  'x'.repeat(MAX + 1),
];

export const BOUNDARY_STRINGS: readonly string[] = [
  '',
  ' ',
  'x'.repeat(MAX),
  'x'.repeat(300),
  '名前',
  '🚀',
  'e\u0301',
  '\u200b',
  'null',
  '0',
];

export const hostileString: fc.Arbitrary<Gen> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 },
  { arbitrary: codeUnits, weight: 2 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
);

export const boundaryString: fc.Arbitrary<Gen> = fc.oneof(
  fc.constantFrom(...BOUNDARY_STRINGS),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** A value of the wrong JSON type, for any argument. */
export const wrongType: fc.Arbitrary<Gen> = fc.constantFrom<Gen>(true, 1, -1, 'str', [], {}, [1, 'a'], { a: 1 }, 1.5);

export const INT_BOUNDARY: readonly Gen[] = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5];
/** BigInt: decimal strings at the edges of 64 bits and just past them, Ints, and near misses. */
export const BIGINT_BOUNDARY: readonly Gen[] = [
  '0',
  '-1',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '9007199254740993',
  '00',
  '1.0',
  '1e3',
  ' 1',
  '',
  0,
  2 ** 31,
  2 ** 53,
  1.5,
];
export const FLOAT_BOUNDARY: readonly Gen[] = [
  0,
  -0,
  5e-324,
  1e-300,
  0.0001,
  1e308,
  -1e308,
  2 ** 53 + 2,
  INFINITY,
  NEG_INFINITY,
];
const SAFE = Number.MAX_SAFE_INTEGER;
const GRANT = LIMITS.grant.maxAmount;
const BALANCE = LIMITS.credits.maxBalance;
export const CREDITS_BOUNDARY: readonly Gen[] = [
  0,
  1,
  -1,
  GRANT,
  GRANT + 1,
  -GRANT,
  -GRANT - 1,
  BALANCE,
  BALANCE + 1,
  SAFE,
  SAFE + 1,
  -SAFE,
  -SAFE - 1,
  1.5,
  INFINITY,
  '100',
];

export const ID_BOUNDARY: fc.Arbitrary<Gen> = fc.oneof(
  fc.uuid().map((u): Gen => u),
  fc.constantFrom<Gen>('', '0', 123, '00000000-0000-0000-0000-000000000000', 'x'.repeat(200), 'ALICE', 'alice '),
);

export function dateBoundary(now: number): fc.Arbitrary<Gen> {
  const day = 24 * 3600 * 1000;
  return fc.oneof(
    fc.constantFrom<Gen>(
      '1970-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '+275760-09-13T00:00:00.000Z',
      '+275760-09-14T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '2030-02-30T00:00:00Z',
      '2030-01-31',
      '2030',
      'not-a-date',
      '',
      0,
      new Date(now).toISOString(),
      new Date(now + 366 * day).toISOString(),
      new Date(now + 367 * day).toISOString(),
    ),
    fc.integer({ min: -400, max: 400 }).map((d): Gen => new Date(now + d * day).toISOString()),
  );
}

const jsonLeaf: fc.Arbitrary<Gen> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** Small ordinary JSON (what metadata usually looks like). */
export const smallJson: fc.Arbitrary<Gen> = fc.letrec<{ v: Gen }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

export const jsonObject: fc.Arbitrary<Gen> = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/), smallJson, {
  maxKeys: 5,
});

/** Keys an attacker would try: prototype pollution, operators, paths, NUL, very long. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '', 'a.b', '$gt', 'k\u0000', '\ud800', 'k'.repeat(5000)];

function withKey(key: string, value: Gen): Gen {
  // JSON.parse makes `__proto__` an own key, as a client's JSON would.
  const o = JSON.parse('{}') as Record<string, Gen>;
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

export const hostileJson: fc.Arbitrary<Gen> = fc.oneof(
  fc.constantFrom<Gen>(nested(DEPTH - 1), nested(DEPTH), nested(DEPTH + 1), nested(5000), INFINITY),
  fc.tuple(fc.constantFrom(...HOSTILE_KEYS), smallJson).map(([k, v]) => withKey(k, v)),
  fc.constant<Gen>(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]))),
  fc.constant<Gen>({ big: 'x'.repeat(70 * 1024) }),
  fc.constant<Gen>(Array.from({ length: 5000 }, (_, i) => i)),
  hostileString.map((s) => ({ s })),
);

/** Replace markers for the wire: Raw → a placeholder string swapped for its text after stringify. */
export function toRequestBody(query: string, variables: Record<string, Gen>): string {
  const raws: Raw[] = [];
  const text = JSON.stringify({ query, variables }, (_key, value: unknown) => {
    if (value instanceof Raw) {
      raws.push(value);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    if (value instanceof Ref) throw new Error(`unresolved ${value}`);
    return value;
  });
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]?.json ?? 'null');
}
