/**
 * The core's own statement texts as pgbench SQL: `$n` parameters replaced by pgbench
 * variables or SQL expressions, so the pgbench rows run what the core runs, not a copy
 * that could drift from it.
 */
import { COMMIT, HOLD_CTES, RESERVE } from '../packages/core/src/ledger/ledger-statements.js';

/**
 * `text` with each `$n` replaced by `values[n]`, without the statement's name comment
 * (pgbench would read its `:name` as a variable).
 */
export function withValues(text: string, values: Record<number, string>): string {
  return text.replace(/^\/\*stmt:[\w.]+\*\/ /, '').replace(/\$(\d+)/g, (whole, n: string) => {
    const value = values[Number(n)];
    if (value === undefined) throw new Error(`no pgbench value for ${whole} in ${text.slice(0, 60)}`);
    return value;
  });
}

/** A hold of `:amount` on wallet `:w`, as CreditLedger.reserve and the admission run it. */
const HOLD_VALUES = {
  1: ':w::text',
  2: ':amount',
  3: 'gen_random_uuid()',
  4: "'allocation'",
  5: 'null',
  6: "(now() + interval '15 minutes')",
};

/** CreditLedger.reserve's statement. */
export const RESERVE_SQL = withValues(RESERVE.text, HOLD_VALUES);
/** The hold's CTEs, for scripts that go on from them. */
export const HOLD_CTES_SQL = withValues(HOLD_CTES, HOLD_VALUES);
/** CreditLedger.commit's statement, for the reservation in `:id`, the whole hold charged. */
export const COMMIT_SQL = withValues(COMMIT.text, { 1: ':id', 2: 'null', 3: 'null', 4: 'null' });
