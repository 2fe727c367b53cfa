/** Validate a whole pool definition; a bad pool is refused as a whole with every problem listed. */
import { SlipwayError } from '@slipway/core';
import { type PoolMachine, poolEntrySchema } from './pool-entry.js';

export type PoolParseResult =
  | { readonly ok: true; readonly machines: readonly PoolMachine[] }
  | { readonly ok: false; readonly problems: readonly string[] };

const MAX_POOL_SIZE = 10_000;

/**
 * Accepts a bare array of machines or `{ "pool": [...] }`, as a value or as JSON text.
 * Problems name their path, e.g. `pool[3].sshPort: Too big: expected number to be <=65535`.
 */
export function parsePool(input: unknown): PoolParseResult {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (error) {
      return { ok: false, problems: [`pool: not valid JSON (${(error as Error).message})`] };
    }
  }
  const entries = unwrap(json);
  if (!Array.isArray(entries)) return { ok: false, problems: [entries.problem] };
  if (entries.length > MAX_POOL_SIZE) {
    return { ok: false, problems: [`pool: ${entries.length} machines, at most ${MAX_POOL_SIZE} allowed`] };
  }

  const problems: string[] = [];
  const machines: PoolMachine[] = [];
  const firstIndexOf = new Map<string, number>();
  entries.forEach((entry, index) => {
    const parsed = poolEntrySchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${pathOf(index, issue.path)}: ${issue.message}`);
      return;
    }
    const { id } = parsed.data;
    const first = firstIndexOf.get(id);
    if (first !== undefined) {
      problems.push(`pool[${index}].id: duplicate id ${JSON.stringify(id)} (also pool[${first}])`);
      return;
    }
    firstIndexOf.set(id, index);
    machines.push({ ...parsed.data, name: parsed.data.name ?? id, cockpitUrl: parsed.data.cockpitUrl ?? null });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, machines };
}

function unwrap(json: unknown): unknown[] | { problem: string } {
  if (Array.isArray(json)) return json;
  if (typeof json === 'object' && json !== null && 'pool' in json) {
    const extra = Object.keys(json).filter((k) => k !== 'pool');
    if (extra.length > 0) return { problem: `pool: unexpected top-level key(s) ${extra.join(', ')}` };
    const pool = (json as { pool: unknown }).pool;
    if (Array.isArray(pool)) return pool;
  }
  return { problem: 'pool: expected an array of machines or { "pool": [...] }' };
}

function pathOf(index: number, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : `${out}.${String(part)}`),
    `pool[${index}]`,
  );
}

/** The error for a refused pool: every problem in the message and in `details.problems`. */
export function invalidPool(problems: readonly string[]): SlipwayError {
  return new SlipwayError('VALIDATION_FAILED', `invalid pool: ${problems.join('; ')}`, {
    details: { field: 'pool', problems: [...problems] },
  });
}
