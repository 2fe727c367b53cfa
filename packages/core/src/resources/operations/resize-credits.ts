/**
 * The money of a resize. Every function here runs inside the caller's transaction, with the
 * resource row locked, so each move of credits commits with the resource change it pays for:
 *
 *   request (bigger)  hold `delta` = quote(new) − quote(current), purpose `resize`    holdResize
 *   request (smaller) `delta` = −min(quote(current) − quote(new), cost − quote(new)):  resizeDelta
 *                     the machine keeps having paid at least the new size's price, so a
 *                     price change between create and resize never refunds more than it should
 *   applied           bigger: charge the hold (cost += delta);                        applyPendingResize
 *                     smaller: refund the stored −delta (never more than cost)
 *   a boot            with the pending size applies it; with neither size: critical   bootedWith
 *   revert / failure / release: release the hold, drop the pending spec             dropResize
 *
 * Invariant: `resize_reservation_id` is set ⇔ its hold is pending. A resize hold is never
 * swept by the hold sweeper (that one reconciles allocations); it ends only here.
 */
import type { ResourceSpec } from '../../domain.js';
import type { NewEvent } from '../../events/event-log.js';
import type { CreditLedger } from '../../ledger/ledger.js';
import type { Pricer } from '../../pricing/pricer.js';
import type { PowerResult } from '../../provisioner/capabilities.js';
import type { Clock } from '../../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../../provisioner/registry.js';
import { type Executor, jsonb } from '../../storage/executor.js';
import type { ResourceRow } from '../resource-mapper.js';

/** A resize hold outlives any lease: it is settled by its resize, never swept. The date is informational. */
const RESIZE_HOLD_LIFETIME_MS = 366 * 24 * 3_600_000;

export interface ResizeCreditDeps {
  ledger: CreditLedger;
  clock: Clock;
}

/**
 * What a resize to `next` moves, in credits: quote(next) − quote(current) for a bigger size;
 * for a smaller one a refund capped so that `cost` stays at least quote(next) (never below 0).
 * Prices through the provisioner: call outside any transaction.
 */
export async function resizeDelta(
  d: { registry: ProvisionerRegistry; pricer: Pricer },
  row: Pick<ResourceRow, 'provisioner' | 'spec' | 'options' | 'cost' | 'expires_at'>,
  next: ResourceSpec,
  now: Date,
): Promise<number> {
  const runtime = d.registry.get(row.provisioner);
  // Both sizes priced over what is left of the lease, so an hourly price moves by the difference.
  const ttlSeconds = row.expires_at ? Math.max(1, Math.ceil((row.expires_at.getTime() - now.getTime()) / 1000)) : null;
  const [current, wanted] = await Promise.all([
    d.pricer.quote(runtime, row.spec, row.options, { ttlSeconds }),
    d.pricer.quote(runtime, next, row.options, { ttlSeconds }),
  ]);
  const delta = wanted - current;
  return delta >= 0 ? delta : -Math.min(-delta, Math.max(0, row.cost - wanted));
}

/** Hold a positive `delta` for the resize; INSUFFICIENT_CREDITS (nothing written) when not available. */
export async function holdResize(
  trx: Executor,
  d: ResizeCreditDeps,
  row: Pick<ResourceRow, 'id' | 'owner_id'>,
  reservationId: string,
  delta: number,
): Promise<string | null> {
  if (delta <= 0) return null;
  await d.ledger.reserve(trx, {
    reservationId,
    accountId: row.owner_id,
    amount: delta,
    expiresAt: new Date(d.clock.now().getTime() + RESIZE_HOLD_LIFETIME_MS),
    resourceId: row.id,
    purpose: 'resize',
  });
  return reservationId;
}

const sameSize = (a: PowerResult['running'], b: ResourceSpec) => a?.vcpu === b.vcpu && a?.memoryMb === b.memoryMb;

/**
 * The machine runs with the pending size (`running` matches it, or the provisioner applied it
 * at once: `running` undefined): it becomes the spec, and the difference is charged or
 * refunded. Returns the event to append, or null when nothing applied.
 */
export async function applyPendingResize(
  trx: Executor,
  d: ResizeCreditDeps,
  row: ResourceRow,
  running: PowerResult['running'] | 'applied-now',
  actorId: string | null,
): Promise<NewEvent | null> {
  const pending = row.pending_spec;
  if (!pending || (running !== 'applied-now' && !sameSize(running, pending))) return null;
  const delta = row.resize_delta ?? 0;
  let charged = 0;
  let refunded = 0;
  let holdMissing = false;
  if (row.resize_reservation_id) {
    const c = await d.ledger.commit(trx, row.resize_reservation_id, { resourceId: row.id, actorId });
    holdMissing = c === null; // cannot happen while the invariant holds; flagged loudly if it does
    charged = c ?? 0;
  } else if (delta < 0) {
    // Capped at the request (resizeDelta); the bound by cost only guards a cost changed since.
    refunded = Math.min(-delta, Math.max(0, row.cost));
    if (refunded > 0) {
      await d.ledger.refund(trx, {
        accountId: row.owner_id,
        amount: refunded,
        resourceId: row.id,
        actorId,
        note: 'smaller resize applied',
      });
    }
  }
  await trx
    .updateTable('resources')
    .set({
      spec: jsonb(pending),
      cost: row.cost + charged - refunded,
      pending_spec: null,
      resize_delta: null,
      resize_reservation_id: null,
      updated_at: d.clock.now(),
    })
    .where('id', '=', row.id)
    .execute();
  return {
    type: 'vm',
    action: 'resource.resized',
    severity: holdMissing ? 'critical' : 'info',
    actorId,
    ownerId: row.owner_id,
    resourceId: row.id,
    data: { from: sizeOf(row.spec), to: sizeOf(pending), charged, refunded, ...(holdMissing ? { holdMissing } : {}) },
  };
}

/**
 * A boot reported the size the machine runs with: the pending size applies it (charged or
 * refunded); the recorded spec changes nothing; any other size is a critical
 * `resource.size_mismatch` and moves no credit (an operator must look: Slipway charges for
 * one size while the machine runs another). Returns the event to append, or null.
 */
export async function bootedWith(
  trx: Executor,
  d: ResizeCreditDeps,
  row: ResourceRow,
  running: NonNullable<PowerResult['running']>,
  actorId: string | null,
): Promise<NewEvent | null> {
  const applied = await applyPendingResize(trx, d, row, running, actorId);
  if (applied || sameSize(running, row.spec)) return applied;
  const op = row.operation;
  if (op?.action === 'RESIZE' && op.reached === true && sameSize(running, op.spec)) {
    // The resize in flight reached the machine and it booted with it before the resize's commit:
    // that commit (or its failure) charges it at once (operation-commit.ts).
    await trx
      .updateTable('resources')
      .set({ operation: jsonb({ ...op, booted: true }) })
      .where('id', '=', row.id)
      .execute();
    return null;
  }
  return {
    type: 'vm',
    action: 'resource.size_mismatch',
    severity: 'critical',
    actorId,
    ownerId: row.owner_id,
    resourceId: row.id,
    data: {
      running: sizeOf(running),
      spec: sizeOf(row.spec),
      pendingSpec: row.pending_spec ? sizeOf(row.pending_spec) : null,
    },
  };
}

/** Drop the pending resize (or the one being requested) and release its hold. */
export async function dropResize(
  trx: Executor,
  d: ResizeCreditDeps,
  row: Pick<ResourceRow, 'id' | 'resize_reservation_id'>,
): Promise<{ released: number }> {
  let released = 0;
  if (row.resize_reservation_id) {
    const hold = await trx
      .selectFrom('reservations')
      .select('amount')
      .where('id', '=', row.resize_reservation_id)
      .executeTakeFirst();
    if (await d.ledger.release(trx, row.resize_reservation_id)) released = hold?.amount ?? 0;
  }
  await trx
    .updateTable('resources')
    .set({ pending_spec: null, resize_delta: null, resize_reservation_id: null, updated_at: d.clock.now() })
    .where('id', '=', row.id)
    .execute();
  return { released };
}

export const sizeOf = (spec: Pick<ResourceSpec, 'vcpu' | 'memoryMb'>) => ({ vcpu: spec.vcpu, memoryMb: spec.memoryMb });
