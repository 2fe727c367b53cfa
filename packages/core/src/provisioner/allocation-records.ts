/**
 * Idempotency on `resourceId` for provisioners, over `ctx.store`: the core retries `allocate`
 * after crashes and time-outs, and a retry must answer with the machine the first attempt
 * built. `records.once(req, ctx, build, discard)` returns the recorded allocation, or runs
 * `build` and records what it returns.
 *
 * Before building, a caller claims the record (compare-and-set) with a lease it renews while
 * `build` runs; anyone else, on any replica, waits for that build instead of starting a
 * second one. A claim whose lease ran out (its process died, or its build ignored an abort)
 * is taken over. Records are never deleted, only overwritten, so versions only grow and a
 * stale writer can never land on a newer claim. `forget` leaves a tombstone: a build that
 * finishes after its resource was released hands its machine to `discard`.
 *
 * What the store cannot give: if the process dies after `build` made a machine and before the
 * record is written, the next attempt runs `build` again. So `build` must first look for what
 * it may have made for this resourceId (a tag, a label, a name derived from it). Pass
 * `discard` (release the machine there) whenever a duplicate can cost money.
 */
import { randomUUID } from 'node:crypto';
import { SlipwayError } from '../errors.js';
import { sleep } from '../util/abort.js';
import type { Allocation, ProvisionContext } from './provisioner.js';
import type { ProvisionerStore, StoreEntry } from './provisioner-store.js';

export interface AllocationRecordsOptions {
  /** Key prefix in the store. Default `allocation/`. */
  prefix?: string;
  /** How long a claim lives without renewal (renewed every third of it while building). Default 60 s. */
  leaseMs?: number;
  /** How often a waiting caller looks again. Default 250 ms. */
  pollMs?: number;
}

export type Build = (signal: AbortSignal) => Promise<Allocation>;
export type Discard = (duplicate: Allocation) => Promise<void>;

export interface AllocationRecords {
  /** The recorded allocation of `req.resourceId`, or `build`'s (recorded). Rejects when `ctx.signal` aborts. */
  once(
    req: { readonly resourceId: string },
    ctx: Pick<ProvisionContext, 'signal'>,
    build: Build,
    discard?: Discard,
  ): Promise<Allocation>;
  /** The recorded allocation, if any (not one still being built). */
  get(resourceId: string): Promise<Allocation | undefined>;
  /** Mark the resource released (a build still running will discard its machine); false when nothing was recorded. */
  forget(resourceId: string): Promise<boolean>;
  /** Every recorded allocation, in resourceId order. */
  list(): Promise<Allocation[]>;
}

type RecordValue =
  | { state: 'ready'; allocation: Allocation }
  | { state: 'building'; owner: string; until: number }
  | { state: 'vacant' } // a build failed: the next caller claims again
  | { state: 'released' };

/** Builds in flight per store, so concurrent calls of one process share one build. */
const inFlight = new WeakMap<ProvisionerStore, Map<string, Promise<Allocation>>>();

export function allocationRecords(store: ProvisionerStore, options: AllocationRecordsOptions = {}): AllocationRecords {
  const prefix = options.prefix ?? 'allocation/';
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 250;
  const key = (resourceId: string) => `${prefix}${resourceId}`;
  const pending = inFlight.get(store) ?? new Map<string, Promise<Allocation>>();
  inFlight.set(store, pending);
  const ready = (e: StoreEntry<RecordValue> | undefined) =>
    e?.value.state === 'ready' ? e.value.allocation : undefined;
  const released = (k: string) => new SlipwayError('PROVISIONER_FAILED', `${k} was released; it is not built again`);

  /** Run `build` under our claim: renew it meanwhile, then record the result (or free the claim). */
  async function buildAsOwner(
    k: string,
    claim: StoreEntry<RecordValue>,
    signal: AbortSignal,
    build: Build,
    discard?: Discard,
  ): Promise<Allocation | undefined> {
    let version = claim.version;
    const owner = claim.value.state === 'building' ? claim.value.owner : '';
    // Renewals run one after another and are awaited before the final write, so the final write
    // always uses the latest version (a renewal in flight cannot make it fail).
    let renewals: Promise<void> = Promise.resolve();
    const renew = () => {
      renewals = renewals.then(async () => {
        const next = await store
          .compareAndSet<RecordValue>(k, version, { state: 'building', owner, until: Date.now() + leaseMs })
          .catch(() => undefined);
        if (next) version = next.version;
      });
    };
    const timer = setInterval(renew, leaseMs / 3);
    // An aborted caller stops renewing at once, so a build that ignores the abort cannot hold the claim.
    const stopRenewing = () => clearInterval(timer);
    signal.addEventListener('abort', stopRenewing, { once: true });
    const building = Promise.resolve().then(() => build(signal)); // a synchronous throw is a failure too
    let allocation: Allocation;
    try {
      allocation = await raceAbort(building, signal);
    } catch (error) {
      stopRenewing();
      // A build that ignored the abort and finishes later made a machine nobody records.
      if (signal.aborted) void building.then((late) => discard?.(late)).catch(() => {});
      await renewals;
      await store.compareAndSet<RecordValue>(k, version, { state: 'vacant' }).catch(() => undefined);
      throw error;
    } finally {
      signal.removeEventListener('abort', stopRenewing);
    }
    stopRenewing();
    await renewals;
    if (await store.compareAndSet<RecordValue>(k, version, { state: 'ready', allocation })) return allocation;
    // Our claim was taken over (its lease ran out) or the resource was released meanwhile:
    // what we built is not the machine of record, so it goes, unless it is the very same one.
    const now = await store.get<RecordValue>(k);
    const winner = ready(now);
    if (winner?.externalId !== allocation.externalId) await discard?.(allocation);
    if (winner) return winner;
    if (now?.value.state === 'released') throw released(k);
    return undefined; // another caller is building now: wait for its record
  }

  async function onceUncached(resourceId: string, signal: AbortSignal, build: Build, discard?: Discard) {
    const k = key(resourceId);
    for (;;) {
      const entry = await store.get<RecordValue>(k);
      const recorded = ready(entry);
      if (recorded) return recorded;
      if (entry?.value.state === 'released') throw released(k);
      signal.throwIfAborted();
      if (entry?.value.state === 'building' && entry.value.until > Date.now()) {
        await sleep(pollMs, signal); // someone else is building: wait for their record
        continue;
      }
      const claimValue: RecordValue = { state: 'building', owner: randomUUID(), until: Date.now() + leaseMs };
      const claim = await store.compareAndSet<RecordValue>(k, entry?.version ?? null, claimValue);
      if (!claim) continue; // another caller claimed first: look again
      const out = await buildAsOwner(k, claim, signal, build, discard);
      if (out) return out;
    }
  }

  return {
    async once(req, ctx, build, discard) {
      const k = key(req.resourceId);
      const running = pending.get(k);
      if (running) {
        // Join the build in flight, but on our own signal: if it failed because its first caller
        // gave up while we did not, try again ourselves.
        try {
          return await raceAbort(running, ctx.signal);
        } catch (error) {
          if (ctx.signal.aborted) throw error;
        }
      }
      const started = onceUncached(req.resourceId, ctx.signal, build, discard).finally(() => {
        if (pending.get(k) === started) pending.delete(k);
      });
      pending.set(k, started);
      return started;
    },
    get: async (resourceId) => ready(await store.get<RecordValue>(key(resourceId))),
    async forget(resourceId) {
      const k = key(resourceId);
      for (;;) {
        const entry = await store.get<RecordValue>(k);
        if (!entry || entry.value.state === 'released') return false;
        if (await store.compareAndSet<RecordValue>(k, entry.version, { state: 'released' })) {
          return entry.value.state === 'ready' || entry.value.state === 'building';
        }
      }
    },
    list: async () =>
      (await store.list<RecordValue>(prefix)).flatMap((e) => (e.value.state === 'ready' ? [e.value.allocation] : [])),
  };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
