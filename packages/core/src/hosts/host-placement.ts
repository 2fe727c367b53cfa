/**
 * Placement of a host-placed provisioner's resource: a host of that provisioner that is up,
 * heartbeating, and has room for the spec (capacity minus the specs of its live resources,
 * PROVISIONING ones, whose holds are pending, included), or the one the request names.
 *
 * `placeResource` runs inside the create's admission transaction and locks the candidate
 * hosts' rows (FOR UPDATE, in name order), so concurrent creates place one after another and
 * none can overfill a host; the lock is held until the resource row is committed.
 * `previewPlacement` answers the same question without locks, for quotes.
 *
 * What the errors tell depends on who asks: admins learn that a requested host is unknown
 * (VALIDATION_FAILED naming `host`) or not up, and how many hosts are live; users get one
 * CAPACITY_EXHAUSTED for a requested host that is unknown, down or full, and no host names
 * or counts, so they cannot probe which hosts exist.
 */
import type { ResourceSpec } from '../domain.js';
import { SlipwayError } from '../errors.js';
import type { Executor } from '../storage/executor.js';
import { capacityOf, type HostCapacity, type HostRow, hostUsage, NO_USAGE } from './host-repository.js';

export interface PlacementRequest {
  provisioner: string;
  spec: ResourceSpec;
  /** The host the request names, if any. */
  requested?: string | undefined;
  /** Whether an admin asks: errors then say precisely what is wrong with the requested host. */
  admin: boolean;
  now: Date;
  staleBefore: Date;
}

/** Choose and lock a host; throws CAPACITY_EXHAUSTED (or, to admins, VALIDATION_FAILED `host`). Use in a transaction. */
export async function placeResource(trx: Executor, req: PlacementRequest): Promise<string> {
  const outcome = await choose(trx, req, true);
  if (typeof outcome === 'string') return outcome;
  throw outcome;
}

/** Where a create would be placed now, or the error it would meet; writes and locks nothing. */
export async function previewPlacement(
  db: Executor,
  req: PlacementRequest,
): Promise<{ host: string } | { error: SlipwayError }> {
  const outcome = await choose(db, req, false);
  return typeof outcome === 'string' ? { host: outcome } : { error: outcome };
}

async function choose(db: Executor, req: PlacementRequest, lock: boolean): Promise<string | SlipwayError> {
  let q = db
    .selectFrom('hosts')
    .selectAll()
    .where('provisioner', '=', req.provisioner)
    .where('state', '=', 'up')
    .where('heartbeat_at', '>=', req.staleBefore)
    .orderBy('name');
  if (req.requested !== undefined) q = q.where('name', '=', req.requested);
  const live = await (lock ? q.forUpdate() : q).execute();
  if (req.requested !== undefined && live.length === 0) {
    return req.admin ? requestedHostProblem(db, req) : capacityExhausted(req, live);
  }
  const usage = await hostUsage(
    db,
    live.map((h) => h.name),
  );
  const fitting = live
    .map((h) => ({ host: h, free: freeAfter(capacityOf(h), usage.get(h.name) ?? NO_USAGE, req.spec) }))
    .filter((c) => c.free.vcpu >= -EPSILON && c.free.memoryMb >= 0 && c.free.diskGb >= 0)
    // Spread: the host left with the most free memory, then vCPU; the name breaks ties.
    .sort((a, b) => b.free.memoryMb - a.free.memoryMb || b.free.vcpu - a.free.vcpu);
  const best = fitting[0];
  if (best) return best.host.name;
  return capacityExhausted(req, live);
}

/** Fractional vCPUs add up in floating point. */
const EPSILON = 1e-9;

function freeAfter(capacity: HostCapacity, used: HostCapacity, spec: ResourceSpec): HostCapacity {
  return {
    vcpu: capacity.vcpu - used.vcpu - spec.vcpu,
    memoryMb: capacity.memoryMb - used.memoryMb - spec.memoryMb,
    diskGb: capacity.diskGb - used.diskGb - spec.diskGb,
  };
}

/** To admins: a named host that is not live is unknown (or another provisioner's: bad input), or down. */
async function requestedHostProblem(db: Executor, req: PlacementRequest): Promise<SlipwayError> {
  const name = req.requested as string;
  const row = await db.selectFrom('hosts').select(['provisioner']).where('name', '=', name).executeTakeFirst();
  if (row?.provisioner !== req.provisioner) {
    return new SlipwayError('VALIDATION_FAILED', `host: no host ${name} serves provisioner ${req.provisioner}`, {
      details: { field: 'host', host: name },
    });
  }
  return new SlipwayError('CAPACITY_EXHAUSTED', `host ${name} is not up (no recent heartbeat)`, {
    details: { provisioner: req.provisioner, host: name },
  });
}

/** No room. Users learn nothing about the hosts; a requested host is echoed back, nothing more. */
function capacityExhausted(req: PlacementRequest, live: readonly HostRow[]): SlipwayError {
  const size = `${req.spec.vcpu} vCPU, ${req.spec.memoryMb} MB, ${req.spec.diskGb} GB`;
  const where =
    req.requested !== undefined
      ? `on the requested host ${req.requested} of ${req.provisioner}`
      : req.admin
        ? `on any of ${live.length} live host(s) of ${req.provisioner}`
        : `on any host of ${req.provisioner}`;
  return new SlipwayError('CAPACITY_EXHAUSTED', `no room for ${size} ${where}`, {
    details: { provisioner: req.provisioner, ...(req.requested !== undefined ? { host: req.requested } : {}) },
  });
}
