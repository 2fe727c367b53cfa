/**
 * Idempotency on `resourceId` for provisioners, over `ctx.store`: the core retries `allocate`
 * after crashes and time-outs, and a retry must answer with the machine the first attempt
 * built. `records.once(req, ctx, build)` returns the recorded allocation, or runs `build` and
 * records what it returns.
 *
 * Before building, a caller claims the record (compare-and-set) as "building" with a lease it
 * renews while `build` runs; anyone else, on any replica, waits for that build instead of
 * starting a second one. A claim whose lease ran out (its process died) is taken over. Calls
 * in one process share one build (and so the first caller's signal).
 *
 * What the store cannot give: if the process dies after `build` made a machine and before the
 * record is written, the next attempt runs `build` again. So `build` must first look for what
 * it may have made for this resourceId (a tag, a label, a name derived from it). And if a
 * stalled builder lost its lease and both builds finish, the loser's allocation goes to
 * `discard` (release it there) and the winner's is returned.
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

export interface AllocationRecords {
  /** The recorded allocation of `req.resourceId`, or `build`'s (recorded). Rejects if `ctx.signal` aborts. */
  once(
    req: { readonly resourceId: string },
    ctx: Pick<ProvisionContext, 'signal'>,
    build: (signal: AbortSignal) => Promise<Allocation>,
    discard?: (duplicate: Allocation) => Promise<void>,
  ): Promise<Allocation>;
  /** The recorded allocation, if any (not one still being built). */
  get(resourceId: string): Promise<Allocation | undefined>;
  /** Drop the record (after a release); false when there was none. */
  forget(resourceId: string): Promise<boolean>;
  /** Every recorded allocation, in resourceId order. */
  list(): Promise<Allocation[]>;
}

type RecordValue = { state: 'ready'; allocation: Allocation } | { state: 'building'; owner: string; until: number };

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

  /** Claim the record for building, renew the claim while `build` runs, then record the result. */
  async function buildAsOwner(
    k: string,
    claim: StoreEntry<RecordValue>,
    signal: AbortSignal,
    build: (signal: AbortSignal) => Promise<Allocation>,
    discard?: (duplicate: Allocation) => Promise<void>,
  ): Promise<Allocation | undefined> {
    let version = claim.version;
    const owner = claim.value.state === 'building' ? claim.value.owner : '';
    const renew = setInterval(() => {
      void store
        .compareAndSet<RecordValue>(k, version, { state: 'building', owner, until: Date.now() + leaseMs })
        .then((renewed) => {
          if (renewed) version = renewed.version;
        })
        .catch(() => {}); // the next renewal tries again; a lost lease shows when recording
    }, leaseMs / 3);
    let allocation: Allocation;
    try {
      allocation = await build(signal);
    } catch (error) {
      clearInterval(renew);
      await store.delete(k, version).catch(() => false); // let the next attempt build
      throw error;
    }
    clearInterval(renew);
    if (await store.compareAndSet<RecordValue>(k, version, { state: 'ready', allocation })) return allocation;
    // Our claim was taken over (our lease ran out) or the record was forgotten (a release):
    // what we built is not the machine of record, so it goes, unless it is the very same one.
    const now = await store.get<RecordValue>(k);
    const winner = ready(now);
    if (winner?.externalId !== allocation.externalId) await discard?.(allocation);
    if (winner) return winner;
    if (!now) throw new SlipwayError('PROVISIONER_FAILED', `allocation of ${k} was released while it was being built`);
    return undefined; // another caller is building now: wait for its record
  }

  async function onceUncached(
    resourceId: string,
    signal: AbortSignal,
    build: (signal: AbortSignal) => Promise<Allocation>,
    discard?: (duplicate: Allocation) => Promise<void>,
  ): Promise<Allocation> {
    const k = key(resourceId);
    for (;;) {
      const entry = await store.get<RecordValue>(k);
      const recorded = ready(entry);
      if (recorded) return recorded;
      signal.throwIfAborted();
      const building = entry?.value.state === 'building' ? entry.value : undefined;
      if (building && building.until > Date.now()) {
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
    once(req, ctx, build, discard) {
      const k = key(req.resourceId);
      const running = pending.get(k);
      if (running) return running;
      const started = onceUncached(req.resourceId, ctx.signal, build, discard).finally(() => pending.delete(k));
      pending.set(k, started);
      return started;
    },
    get: async (resourceId) => ready(await store.get<RecordValue>(key(resourceId))),
    forget: (resourceId) => store.delete(key(resourceId)),
    list: async () =>
      (await store.list<RecordValue>(prefix)).flatMap((e) => (e.value.state === 'ready' ? [e.value.allocation] : [])),
  };
}
