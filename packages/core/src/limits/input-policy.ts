/**
 * One input policy for everything a caller sends that can reach the database: a string or
 * key PostgreSQL cannot store (NUL, an unpaired UTF-16 surrogate), JSON nested deeper than
 * LIMITS.input.jsonMaxDepth, a string longer than LIMITS.input.stringMaxLength, a number
 * that is not finite. The server applies it to every GraphQL variable and literal before a
 * resolver runs; the core applies it again in `parseOrThrow` and on metadata patches, so an
 * embedder calling the core directly gets the same typed VALIDATION_FAILED naming the field.
 *
 * The walk is iterative with an explicit stack: a hostile value nested 100,000 deep is
 * refused at the depth limit instead of overflowing the call stack.
 */
import { SlipwayError } from '../errors.js';
import { LIMITS } from './limits.js';

export interface InputProblem {
  /** Dotted path of the offending value (`input.metadata.a.b`, `labels.team`). */
  readonly field: string;
  readonly message: string;
}

// PostgreSQL text and jsonb reject U+0000; jsonb rejects an unpaired surrogate escape.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with one string, if anything. */
export function stringProblem(s: string): string | undefined {
  if (s.length > LIMITS.input.stringMaxLength) return `is longer than ${LIMITS.input.stringMaxLength} characters`;
  if (NUL.test(s)) return 'contains a NUL character (U+0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate, which cannot be stored';
  return undefined;
}

/** The first thing in `value` that breaks the policy, or undefined. `root` names the value. */
export function inputProblem(value: unknown, root: string): InputProblem | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, path, depth } = item;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { field: path, message: problem };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { field: path, message: 'is not a finite number' };
    } else if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
      if (depth >= LIMITS.input.jsonMaxDepth) {
        return { field: path, message: `nests deeper than ${LIMITS.input.jsonMaxDepth} levels` };
      }
      const entries: Array<[string, unknown]> = Array.isArray(v)
        ? v.map((x, i) => [String(i), x])
        : Object.entries(v as Record<string, unknown>);
      for (const [key, child] of entries) {
        const keyProblem = stringProblem(key);
        if (keyProblem) return { field: `${path}.${key.slice(0, 64)}`, message: `key ${keyProblem}` };
        stack.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** Throw VALIDATION_FAILED naming the field when `value` breaks the input policy. */
export function assertStorableInput(value: unknown, root: string): void {
  const problem = inputProblem(value, root);
  if (problem) {
    throw new SlipwayError('VALIDATION_FAILED', `${problem.field}: ${problem.message}`, {
      details: { field: problem.field },
    });
  }
}
