/**
 * One sweep of one provisioner's inventory (one host's, for a host-placed provisioner):
 *   1. list what exists at the provider (nothing is released or marked GONE without a listing);
 *   2. note the orphans (orphans.ts) and forget sightings that are no longer orphans;
 *   3. release, through the provisioner, each orphan seen for longer than the grace period,
 *      with a `provisioner.orphan_released` warning event and a count (once per machine);
 *   4. mark GONE the resources whose machine is missing (vanished.ts);
 *   5. record the sweep and its counts in `reaper_sweeps`. A failure at any step is recorded
 *      too (what was done so far, and why) and thrown: the job retries with backoff, and the
 *      next sweep after it gives up is due one interval after this one started.
 * No transaction is held open across a provisioner call.
 */
import { errorMessage } from '../../errors.js';
import type { InventoryItem } from '../../provisioner/capabilities.js';
import type { CallContext } from '../../provisioner/runtime-provisioner.js';
import type { WorkerDeps } from '../worker-deps.js';
import { findOrphans, type Orphan, oldestAllocationInFlight } from './orphans.js';
import { markSightingReleased, noteSightings, recordSweep, type SweepCounts } from './reaper-repository.js';
import type { ReaperScope, ReaperSettings } from './reaper-settings.js';
import { markVanished } from './vanished.js';

export async function sweepInventory(
  d: WorkerDeps,
  settings: Pick<ReaperSettings, 'graceMs'>,
  scope: ReaperScope,
  signal: AbortSignal,
): Promise<SweepCounts> {
  const runtime = d.registry.get(scope.provisioner);
  const startedAt = d.clock.now();
  const call = { signal, events: d.eventService.systemSink(scope.provisioner) };
  const counts: SweepCounts = { listed: 0, orphansSeen: 0, released: 0, markedGone: 0, error: null };
  let stage = 'inventory';
  try {
    const items = await runtime.inventory(call);
    stage = 'sweep';
    counts.listed = items.length;
    await judge(d, settings, scope, items, startedAt, call, counts);
    await recordSweep(d.db, scope, { startedAt, finishedAt: d.clock.now() }, counts);
    return counts;
  } catch (error) {
    // A runner that stops or lost its lease hands the job on: that is no failed sweep. Any other
    // failure is recorded, so the next sweep is scheduled an interval after this one started.
    if (!signal.aborted) {
      const failed = { ...counts, error: `${stage}: ${errorMessage(error)}`.slice(0, 2000) };
      await recordSweep(d.db, scope, { startedAt, finishedAt: d.clock.now() }, failed).catch((recording: unknown) =>
        d.logger.warn('reaper: a failed sweep could not be recorded', { ...scope, error: errorMessage(recording) }),
      );
    }
    throw error;
  }
}

/** Steps 2 to 4 over a listing; `counts` is filled in as it goes (a failure records what was done). */
async function judge(
  d: WorkerDeps,
  settings: Pick<ReaperSettings, 'graceMs'>,
  scope: ReaperScope,
  items: readonly InventoryItem[],
  startedAt: Date,
  call: CallContext & { signal: AbortSignal },
  counts: SweepCounts,
): Promise<void> {
  const { signal } = call;
  const runtime = d.registry.get(scope.provisioner);
  // Read before the orphans: an allocation that commits an untagged machine between the two
  // reads is then either seen holding it, or still in flight here (read after, it was neither).
  const inFlightSince = (await oldestAllocationInFlight(d.db, scope))?.getTime() ?? Number.POSITIVE_INFINITY;
  const orphans = await findOrphans(d.db, scope.provisioner, items);
  counts.orphansSeen = orphans.length;
  const sightings = new Map((await noteSightings(d.db, scope, orphans, startedAt)).map((s) => [s.externalId, s]));
  const graceStart = startedAt.getTime() - settings.graceMs;
  const problems: string[] = [];
  for (const orphan of orphans) {
    const seen = sightings.get(orphan.externalId);
    if (!seen || seen.firstSeenAt.getTime() >= graceStart) continue; // still in its grace period
    // Untagged: it may be an allocation's that began before it was first seen and has not recorded it yet.
    if (orphan.resourceId === null && inFlightSince <= seen.firstSeenAt.getTime()) continue;
    try {
      await runtime.release({ resourceId: orphan.resourceId ?? '', externalId: orphan.externalId }, call);
    } catch (error) {
      if (signal.aborted) throw error;
      problems.push(`release ${orphan.externalId}: ${errorMessage(error)}`);
      continue;
    }
    if (await noteReleased(d, scope, orphan, seen.firstSeenAt)) counts.released += 1;
  }
  counts.markedGone = await markVanished(d, scope, items, startedAt, signal);
  counts.error = problems.length > 0 ? problems.join('; ').slice(0, 2000) : null;
}

/**
 * The sighting is marked released and the warning event appended in one transaction, once per
 * machine: a machine a slow provider still lists is released again later, quietly.
 */
async function noteReleased(d: WorkerDeps, scope: ReaperScope, orphan: Orphan, firstSeenAt: Date): Promise<boolean> {
  return d.db.transaction().execute(async (trx) => {
    if (!(await markSightingReleased(trx, scope, orphan.externalId, d.clock.now()))) return false;
    await d.events.append(trx, {
      type: 'system',
      action: 'provisioner.orphan_released',
      severity: 'warning',
      resourceId: orphan.resource?.id ?? null,
      data: {
        provisioner: scope.provisioner,
        host: scope.host,
        externalId: orphan.externalId,
        resourceId: orphan.resourceId,
        resourceStatus: orphan.resource?.status ?? null,
        firstSeenAt: firstSeenAt.toISOString(),
      },
    });
    return true;
  });
}
