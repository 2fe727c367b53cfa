/**
 * Shared state for provisioners, namespaced by provisioner name and kept in the same
 * database as everything else, so several replicas agree. Provisioners never see SQL:
 * they get this interface on `ctx.store`.
 */
export interface StoreEntry<T = unknown> {
  readonly key: string;
  readonly value: T;
  /** Increases by one on every write; the token for compareAndSet. */
  readonly version: number;
}

/** How a write marks its entry. */
export interface StoreWriteOptions {
  /**
   * The entry is the record of a released machine, kept only a while (so a late status or a
   * repeated release still finds it): it stays readable until the core's retention deletes it,
   * `releasedMachinesMs` (default 7 days) after this write. A later write without it keeps the
   * entry for good again. Default false.
   */
  retired?: boolean;
}

export interface ProvisionerStore {
  get<T = unknown>(key: string): Promise<StoreEntry<T> | undefined>;
  /** Entries whose key starts with `prefix`, in key order. */
  list<T = unknown>(prefix?: string): Promise<StoreEntry<T>[]>;
  /** Unconditional upsert. */
  put<T = unknown>(key: string, value: T, options?: StoreWriteOptions): Promise<StoreEntry<T>>;
  /**
   * Write only if the entry is still at `expectedVersion` (`null`: only if it does not exist).
   * Returns the new entry, or undefined when someone else wrote first.
   */
  compareAndSet<T = unknown>(
    key: string,
    expectedVersion: number | null,
    value: T,
    options?: StoreWriteOptions,
  ): Promise<StoreEntry<T> | undefined>;
  delete(key: string, expectedVersion?: number): Promise<boolean>;
  /**
   * Atomically take the first entry among `keys` (in the given order) whose value contains
   * `where` (JSON containment, like `{ "status": "available" }`), and replace its value with
   * `update(entry)`. Entries being claimed by a concurrent caller are skipped, never given
   * twice. Returns the claimed entry as written, or undefined when none is left.
   */
  claim<T = unknown>(
    opts: { keys: readonly string[]; where: Record<string, unknown> },
    update: (entry: StoreEntry<T>) => T,
  ): Promise<StoreEntry<T> | undefined>;
}

/** Durable background work a provisioner asks the core to run (with retries and backoff). */
export interface JobRequest {
  /** Handler name in the provisioner's `jobHandlers`. */
  readonly kind: string;
  readonly payload: Record<string, unknown>;
  /** At most one queued/running job per key; a second enqueue with the key is a no-op. */
  readonly key?: string;
  /** Attempts before the job is given up with a critical event. Default 8. */
  readonly maxAttempts?: number;
  readonly runAt?: Date;
}

export interface JobQueue {
  enqueue(job: JobRequest): Promise<void>;
}
