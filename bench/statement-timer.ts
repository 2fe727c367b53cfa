/**
 * Times every statement the driver runs, from Kysely's query log (built or raw, named or not),
 * by statement: a named one by its name (`stmt events.append`), any other by kind and table
 * (`insert events`, `update resources`). Where a createResource spends its database time, to
 * compare at 10k and 1M rows.
 */
import type { LogConfig, LogEvent } from 'kysely';

/** Mean ms per operation and statements per operation, by statement key. */
export type StatementTimes = { key: string; msPerOp: number; perOp: number }[];

export interface StatementTimer {
  /** For `BenchDatabase.open`: Kysely's `log` option. */
  log: LogConfig;
  /** Forget what was timed so far (the warm-up). */
  reset(): void;
  /** The statements by total time, per operation of `ops`. */
  perOp(ops: number): StatementTimes;
}

export function statementTimer(): StatementTimer {
  let totals = new Map<string, { ms: number; n: number }>();
  const log = (event: LogEvent) => {
    const key = statementKey(event.query.sql);
    const total = totals.get(key) ?? { ms: 0, n: 0 };
    total.ms += event.queryDurationMillis;
    total.n += 1;
    totals.set(key, total);
  };
  return {
    log,
    reset: () => {
      totals = new Map();
    },
    perOp: (ops) =>
      [...totals.entries()]
        .map(([key, t]) => ({ key, msPerOp: t.ms / Math.max(ops, 1), perOp: t.n / Math.max(ops, 1) }))
        .sort((a, b) => b.msPerOp - a.msPerOp),
  };
}

const NAMED = /^\/\*stmt:([\w.]+)\*\//;
/** Kysely's built statements: the verb, then where the table is named. */
const BUILT: [string, RegExp][] = [
  ['insert', /^insert into "?(\w+)"?/i],
  ['update', /^update "?(\w+)"?/i],
  ['delete', /^delete from "?(\w+)"?/i],
  ['select', /^select\s.*?\sfrom "?(\w+)"?/is],
];

/** `stmt <name>` for a named statement (storage/prepared.ts), else `<verb> <table>`, else its start. */
export function statementKey(text: string): string {
  const sql = text.trim();
  const named = NAMED.exec(sql);
  if (named) return `stmt ${named[1]}`;
  for (const [verb, pattern] of BUILT) {
    const table = pattern.exec(sql)?.[1];
    if (table) return `${verb} ${table}`;
  }
  return `sql ${sql.replace(/\s+/g, ' ').slice(0, 48)}`;
}
