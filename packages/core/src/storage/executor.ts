import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { SlipwayDatabase } from './schema.js';

/** A database handle or an open transaction; ledger and event writes take either. */
export type Executor = Kysely<SlipwayDatabase> | Transaction<SlipwayDatabase>;

/** A JSON value as a jsonb parameter, the same way on `pg` and PGlite. */
export const jsonb = (value: unknown) => sql<string>`${JSON.stringify(value)}::jsonb`;

/** PostgreSQL error code of a driver error (`23505` unique violation, ...). */
export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
