/**
 * Idempotency on `resourceId` for provisioners, over `ctx.store`: the core retries `allocate`
 * after crashes and time-outs, and a retry must answer with the machine the first attempt
 * built. `records.once(req, ctx, build)` returns the recorded allocation, or runs `build`
 * once and records what it returns. Concurrent calls in one process share one build; a later
 * call on any replica reads the record and never calls `build`.
 *
 * What the store cannot give: if the process dies after `build` made a machine and before the
 * record is written, the next attempt runs `build` again. So `build` must first look for what
 * it may have made for this resourceId (a tag, a label, a name derived from it).
 */
import type { Allocation, ProvisionContext } from './provisioner.js';
import type { ProvisionerStore } from './provisioner-store.js';

export interface AllocationRecords {
  /** The recorded allocation of `req.resourceId`, or `build`'s (recorded). Rejects if `ctx.signal` aborted. */
  once(
    req: { readonly resourceId: string },
    ctx: Pick<ProvisionContext, 'signal'>,
    build: (signal: AbortSignal) => Promise<Allocation>,
  ): Promise<Allocation>;
  /** The recorded allocation, if any. */
  get(resourceId: string): Promise<Allocation | undefined>;
  /** Drop the record (after a release); false when there was none. */
  forget(resourceId: string): Promise<boolean>;
  /** Every recorded allocation, in resourceId order. */
  list(): Promise<Allocation[]>;
}

/** Builds in flight per store, so concurrent calls of one process share one build. */
const inFlight = new WeakMap<ProvisionerStore, Map<string, Promise<Allocation>>>();

export function allocationRecords(store: ProvisionerStore, prefix = 'allocation/'): AllocationRecords {
  const key = (resourceId: string) => `${prefix}${resourceId}`;
  const pending = inFlight.get(store) ?? new Map<string, Promise<Allocation>>();
  inFlight.set(store, pending);

  const get = async (resourceId: string) => (await store.get<Allocation>(key(resourceId)))?.value;

  const buildAndRecord = async (
    resourceId: string,
    signal: AbortSignal,
    build: (signal: AbortSignal) => Promise<Allocation>,
  ): Promise<Allocation> => {
    const recorded = await get(resourceId);
    if (recorded) return recorded;
    signal.throwIfAborted();
    const allocation = await build(signal);
    const written = await store.compareAndSet(key(resourceId), null, allocation);
    // Another replica recorded first: its allocation is the one the core will keep.
    return written ? allocation : ((await get(resourceId)) ?? allocation);
  };

  return {
    get,
    once(req, ctx, build) {
      const running = pending.get(req.resourceId);
      if (running) return running;
      const started = buildAndRecord(req.resourceId, ctx.signal, build).finally(() => pending.delete(req.resourceId));
      pending.set(req.resourceId, started);
      return started;
    },
    forget: (resourceId) => store.delete(key(resourceId)),
    list: async () => (await store.list<Allocation>(prefix)).map((e) => e.value),
  };
}
