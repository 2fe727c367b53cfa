/**
 * Resources whose machine the provider no longer has: RUNNING or STOPPED, no operation in
 * flight, unchanged since before the inventory was listed (a machine committed meanwhile may be
 * missing from the listing), and in no inventory item by resource id or external id. Each is
 * asked about once more with `status`; only `gone` marks it GONE, in one transaction with a
 * critical `resource.gone` event. No credit moves: the charge was taken at creation and stays.
 * A pending resize's hold is released, as when the machine is released.
 */
import { errorMessage } from '../../errors.js';
import type { InventoryItem } from '../../provisioner/capabilities.js';
import { dropResize } from '../operations/resize-credits.js';
import { type ResourceRow, resourceSink, toAllocation } from '../resource-mapper.js';
import { resourceById } from '../resource-repository.js';
import type { WorkerDeps } from '../worker-deps.js';
import type { ReaperScope } from './reaper-settings.js';

const CHECKED = ['RUNNING', 'STOPPED'] as const;

/** Mark GONE what vanished; returns how many. `listedAfter`: when the inventory call began. */
export async function markVanished(
  d: WorkerDeps,
  scope: ReaperScope,
  items: readonly InventoryItem[],
  listedAfter: Date,
  signal: AbortSignal,
): Promise<number> {
  const ids = new Set(items.flatMap((i) => (i.resourceId ? [i.resourceId] : [])));
  const externalIds = new Set(items.map((i) => i.externalId));
  let q = d.db
    .selectFrom('resources')
    .selectAll()
    .where('provisioner', '=', scope.provisioner)
    .where('status', 'in', CHECKED)
    .where('operation', 'is', null)
    .where('updated_at', '<', listedAfter);
  if (scope.host !== null) q = q.where('host', '=', scope.host);
  const missing = (await q.execute()).filter(
    (r) => !ids.has(r.id) && (r.external_id === null || !externalIds.has(r.external_id)),
  );
  let gone = 0;
  for (const row of missing) {
    if (signal.aborted) throw signal.reason;
    let state: string;
    try {
      const status = await d.registry
        .get(row.provisioner)
        .status(toAllocation(row), { signal, events: resourceSink(d.eventService, row) });
      state = status.state;
    } catch (error) {
      if (signal.aborted) throw error;
      // Not knowing is not gone: the next sweep asks again.
      d.logger.warn('reaper: status of a resource missing from the inventory failed', {
        resourceId: row.id,
        error: errorMessage(error),
      });
      continue;
    }
    if (state === 'gone' && (await markGone(d, row, listedAfter))) gone += 1;
  }
  return gone;
}

/** RUNNING/STOPPED → GONE, re-checked under the row lock; false when the resource changed meanwhile. */
async function markGone(d: WorkerDeps, seen: ResourceRow, listedAfter: Date): Promise<boolean> {
  return d.db.transaction().execute(async (trx) => {
    const row = await resourceById(trx, seen.id, true);
    if (
      !row ||
      !(CHECKED as readonly string[]).includes(row.status) ||
      row.operation !== null ||
      row.external_id !== seen.external_id ||
      row.updated_at >= listedAfter
    ) {
      return false;
    }
    const now = d.clock.now();
    const resize = row.resize_reservation_id || row.pending_spec ? await dropResize(trx, d, row) : { released: 0 };
    await trx
      .updateTable('resources')
      .set({
        status: 'GONE',
        released_at: now,
        updated_at: now,
        error: 'the machine no longer exists at the provider',
      })
      .where('id', '=', row.id)
      .execute();
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.gone',
      severity: 'critical',
      ownerId: row.owner_id,
      resourceId: row.id,
      data: {
        provisioner: row.provisioner,
        externalId: row.external_id,
        from: row.status,
        charged: row.cost,
        ...(resize.released > 0 ? { resizeHoldReleased: resize.released } : {}),
      },
    });
    return true;
  });
}
