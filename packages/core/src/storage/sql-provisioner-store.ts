import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ProvisionerStore, StoreEntry, StoreWriteOptions } from '../provisioner/provisioner-store.js';
import { jsonb, pgErrorCode } from './executor.js';
import type { SlipwayDatabase } from './schema.js';

/** ProvisionerStore over the `provisioner_store` table, one namespace per provisioner. */
export function sqlProvisionerStore(db: Kysely<SlipwayDatabase>, namespace: string): ProvisionerStore {
  const entry = <T>(r: { key: string; value: unknown; version: number }): StoreEntry<T> => ({
    key: r.key,
    value: r.value as T,
    version: r.version,
  });
  const table = () =>
    db.selectFrom('provisioner_store').select(['key', 'value', 'version']).where('namespace', '=', namespace);

  return {
    async get<T>(key: string) {
      const r = await table().where('key', '=', key).executeTakeFirst();
      return r ? entry<T>(r) : undefined;
    },
    async list<T>(prefix = '') {
      const rows = await table()
        .where('key', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
        .orderBy('key')
        .execute();
      return rows.map((r) => entry<T>(r));
    },
    async put<T>(key: string, value: T, options?: StoreWriteOptions) {
      const now = new Date();
      const retired_at = options?.retired ? now : null;
      const r = await db
        .insertInto('provisioner_store')
        .values({ namespace, key, value: jsonb(value), version: 1, updated_at: now, retired_at })
        .onConflict((oc) =>
          oc.columns(['namespace', 'key']).doUpdateSet({
            value: jsonb(value),
            version: sql`provisioner_store.version + 1`,
            updated_at: now,
            retired_at,
          }),
        )
        .returning(['key', 'value', 'version'])
        .executeTakeFirstOrThrow();
      return entry<T>(r);
    },
    async compareAndSet<T>(key: string, expectedVersion: number | null, value: T, options?: StoreWriteOptions) {
      const now = new Date();
      const retired_at = options?.retired ? now : null;
      if (expectedVersion === null) {
        try {
          const r = await db
            .insertInto('provisioner_store')
            .values({ namespace, key, value: jsonb(value), version: 1, updated_at: now, retired_at })
            .onConflict((oc) => oc.columns(['namespace', 'key']).doNothing())
            .returning(['key', 'value', 'version'])
            .executeTakeFirst();
          return r ? entry<T>(r) : undefined;
        } catch (error) {
          if (pgErrorCode(error) === '23505') return undefined;
          throw error;
        }
      }
      const r = await db
        .updateTable('provisioner_store')
        .set({ value: jsonb(value), version: expectedVersion + 1, updated_at: now, retired_at })
        .where('namespace', '=', namespace)
        .where('key', '=', key)
        .where('version', '=', expectedVersion)
        .returning(['key', 'value', 'version'])
        .executeTakeFirst();
      return r ? entry<T>(r) : undefined;
    },
    async delete(key: string, expectedVersion?: number) {
      let q = db.deleteFrom('provisioner_store').where('namespace', '=', namespace).where('key', '=', key);
      if (expectedVersion !== undefined) q = q.where('version', '=', expectedVersion);
      const res = await q.executeTakeFirst();
      return res.numDeletedRows > 0n;
    },
    async claim<T>(opts: { keys: readonly string[]; where: Record<string, unknown> }, update: (e: StoreEntry<T>) => T) {
      if (opts.keys.length === 0) return undefined;
      return db.transaction().execute(async (trx) => {
        // SKIP LOCKED: a machine another replica is claiming right now is passed over, not waited for.
        const found = await sql<{ key: string; value: unknown; version: number }>`
          select key, value, version from provisioner_store
          where namespace = ${namespace} and key = any(${sql.val([...opts.keys])}::text[])
            and value @> ${JSON.stringify(opts.where)}::jsonb
          order by array_position(${sql.val([...opts.keys])}::text[], key)
          limit 1
          for update skip locked`.execute(trx);
        const row = found.rows[0];
        if (!row) return undefined;
        const next = update(entry<T>(row));
        const r = await trx
          .updateTable('provisioner_store')
          .set({ value: jsonb(next), version: row.version + 1, updated_at: new Date(), retired_at: null })
          .where('namespace', '=', namespace)
          .where('key', '=', row.key)
          .returning(['key', 'value', 'version'])
          .executeTakeFirstOrThrow();
        return entry<T>(r);
      });
    },
  };
}
