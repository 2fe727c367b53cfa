import type { ProvisionerStore, StoreEntry } from './provisioner-store.js';

/** In-memory ProvisionerStore with the same semantics as the SQL one; for unit tests. */
export function memoryProvisionerStore(): ProvisionerStore {
  const data = new Map<string, StoreEntry>();
  const clone = <T>(e: StoreEntry): StoreEntry<T> => ({ ...e, value: structuredClone(e.value) as T });
  const write = <T>(key: string, value: T, version: number): StoreEntry<T> => {
    const e = { key, value: structuredClone(value), version };
    data.set(key, e);
    return clone<T>(e);
  };
  const contains = (value: unknown, where: Record<string, unknown>): boolean =>
    typeof value === 'object' &&
    value !== null &&
    Object.entries(where).every(
      ([k, v]) => JSON.stringify((value as Record<string, unknown>)[k]) === JSON.stringify(v),
    );

  return {
    async get<T>(key: string) {
      const e = data.get(key);
      return e ? clone<T>(e) : undefined;
    },
    async list<T>(prefix = '') {
      return [...data.values()]
        .filter((e) => e.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((e) => clone<T>(e));
    },
    async put<T>(key: string, value: T) {
      return write(key, value, (data.get(key)?.version ?? 0) + 1);
    },
    async compareAndSet<T>(key: string, expectedVersion: number | null, value: T) {
      const current = data.get(key);
      if ((current?.version ?? null) !== expectedVersion) return undefined;
      return write(key, value, (expectedVersion ?? 0) + 1);
    },
    async delete(key: string, expectedVersion?: number) {
      const current = data.get(key);
      if (!current || (expectedVersion !== undefined && current.version !== expectedVersion)) return false;
      return data.delete(key);
    },
    async claim<T>(opts: { keys: readonly string[]; where: Record<string, unknown> }, update: (e: StoreEntry<T>) => T) {
      for (const key of opts.keys) {
        const e = data.get(key);
        if (e && contains(e.value, opts.where)) return write(key, update(clone<T>(e)), e.version + 1);
      }
      return undefined;
    },
  };
}
