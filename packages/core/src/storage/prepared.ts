/**
 * Hot statements as constant SQL run by name. On PostgreSQL, node-pg parses and plans a
 * named statement once per connection and afterwards only binds and executes it; Kysely
 * never names statements, so every other query is parsed and planned each time. The name
 * travels to the driver as a leading comment that `namedStatementClient` reads; PGlite
 * runs the same text as an ordinary query. Constant text also skips Kysely's query
 * building on the paths every create takes.
 */
import { CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { Executor } from './executor.js';

const MARK = '/*stmt:';

export interface Statement<Row> {
  readonly name: string;
  readonly text: string;
  /** Phantom: the row type this statement returns. */
  readonly row?: Row;
}

/** A statement named `name` (unique in the process; letters, digits, `.` and `_`). */
export function statement<Row = Record<string, never>>(name: string, text: string): Statement<Row> {
  if (!/^[\w.]+$/.test(name)) throw new Error(`statement name ${name}: letters, digits, . and _ only`);
  return { name, text: `${MARK}${name}*/ ${text.replace(/\s+/g, ' ').trim()}` };
}

/** Run `s` with positional parameters ($1, $2, ...); its rows. */
export async function runStatement<Row>(db: Executor, s: Statement<Row>, params: readonly unknown[]): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(s.text, [...params]));
  return [...result.rows];
}

/** The name a statement's text carries, or undefined for any other query. */
export function statementName(text: string): string | undefined {
  if (!text.startsWith(MARK)) return undefined;
  const end = text.indexOf('*/', MARK.length);
  return end > 0 ? text.slice(MARK.length, end) : undefined;
}

/** A pg Client class that sends marked statements as named (prepared) ones. */
export function namedStatementClient(Client: typeof pg.Client): typeof pg.Client {
  return class NamedStatementClient extends Client {
    // biome-ignore lint/suspicious/noExplicitAny: node-pg's query() is a dozen overloads; this forwards them all.
    override query(config: any, values?: any, callback?: any): any {
      const name = typeof config === 'string' ? statementName(config) : undefined;
      if (name === undefined || typeof values === 'function') return super.query(config, values, callback);
      return super.query({ name, text: config, values }, callback);
    }
  } as typeof pg.Client;
}
