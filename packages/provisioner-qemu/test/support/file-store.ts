/**
 * A ProvisionerStore in one JSON file, so two processes in turn (a server killed with -9, then
 * its successor) see the same records. One writer at a time; for tests only.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProvisionerStore, StoreEntry } from '@slipway/core';

export function fileProvisionerStore(path: string): ProvisionerStore {
  const load = (): Record<string, StoreEntry> => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {});
  const save = (data: Record<string, StoreEntry>) => {
    writeFileSync(`${path}.tmp`, JSON.stringify(data));
    renameSync(`${path}.tmp`, path);
  };
  const write = <T>(key: string, value: T, expected: number | null | undefined): StoreEntry<T> | undefined => {
    const data = load();
    const current = data[key];
    if (expected !== undefined && (current?.version ?? null) !== expected) return undefined;
    const entry = { key, value: structuredClone(value), version: (current?.version ?? 0) + 1 };
    data[key] = entry;
    save(data);
    return entry;
  };
  const contains = (value: unknown, where: Record<string, unknown>) =>
    Object.entries(where).every(
      ([k, v]) => JSON.stringify((value as Record<string, unknown>)?.[k]) === JSON.stringify(v),
    );
  return {
    get: async <T>(key: string) => load()[key] as StoreEntry<T> | undefined,
    list: async <T>(prefix = '') =>
      Object.values(load())
        .filter((e) => e.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : 1)) as StoreEntry<T>[],
    put: async <T>(key: string, value: T) => write(key, value, undefined) as StoreEntry<T>,
    compareAndSet: async <T>(key: string, expected: number | null, value: T) => write(key, value, expected),
    async delete(key, expectedVersion) {
      const data = load();
      const current = data[key];
      if (!current || (expectedVersion !== undefined && current.version !== expectedVersion)) return false;
      delete data[key];
      save(data);
      return true;
    },
    async claim<T>(opts: { keys: readonly string[]; where: Record<string, unknown> }, update: (e: StoreEntry<T>) => T) {
      const data = load();
      const key = opts.keys.find((k) => data[k] && contains(data[k]?.value, opts.where));
      const entry = key ? (data[key] as StoreEntry<T>) : undefined;
      return entry ? write(entry.key, update(entry), entry.version) : undefined;
    },
  };
}
