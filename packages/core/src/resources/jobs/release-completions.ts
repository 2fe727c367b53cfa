/**
 * Group commit for the end of releases. Every release ends with an event, and an event
 * append holds the event-order lock until its transaction commits, so one release per
 * transaction serialises all of them on commit latency (a WAL flush each). Here the
 * releases that finish while one commit is in flight wait for it and then go together:
 * one statement marks them all, one appends their events, one commit. A lone release goes
 * at once, so nothing waits when there is no crowd.
 */
import { sql } from 'kysely';
import { dropResize } from '../operations/resize-credits.js';
import type { ResourceRow } from '../resource-mapper.js';
import type { WorkerDeps } from '../worker-deps.js';

/** A release that is done at the provider and now ends in the database. */
export interface ReleaseDone {
  row: Pick<ResourceRow, 'id' | 'owner_id' | 'expires_at'>;
  expired: boolean;
  actorId: string | null;
}

/** Most releases ended in one transaction: bounds how long the event-order lock is held. */
export const RELEASE_BATCH = 200;

type Deps = Pick<WorkerDeps, 'db' | 'clock' | 'events' | 'ledger'>;

interface Waiter {
  done: ReleaseDone;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** `end(done)` resolves once the release is committed (or was already ended by someone else). */
export function releaseCompletions(d: Deps): { end(done: ReleaseDone): Promise<void> } {
  const queue: Waiter[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, RELEASE_BATCH);
        try {
          await endReleases(
            d,
            batch.map((w) => w.done),
          );
          for (const w of batch) w.resolve();
        } catch (error) {
          if (batch.length === 1) batch[0]?.reject(error);
          // One bad release must not fail its neighbours: each goes again on its own, one after
          // another (they would queue on the event-order lock anyway, each holding a connection).
          else for (const w of batch) await endReleases(d, [w.done]).then(w.resolve, w.reject);
        }
      }
    } finally {
      draining = false;
    }
  }

  return {
    end: (done) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ done, resolve, reject });
        if (!draining) void drain();
      }),
  };
}

/**
 * RELEASING → RELEASED (or EXPIRED) for each, locked in id order (two overlapping batches of
 * a stale runner cannot deadlock); a pending resize's hold ends with its machine; one event
 * each, in one statement. A resource no longer RELEASING was ended by someone else: skipped.
 */
async function endReleases(d: Deps, waiting: readonly ReleaseDone[]): Promise<void> {
  // Two waiters may name one resource (an expiry batch and a user's release finishing
  // together): the first one's ends it, with one event.
  const batch = waiting.filter((b, i) => waiting.findIndex((o) => o.row.id === b.row.id) === i);
  await d.db.transaction().execute(async (trx) => {
    const now = d.clock.now();
    const ids = batch.map((b) => b.row.id);
    const expired = batch.filter((b) => b.expired).map((b) => b.row.id);
    const ended = await trx
      .updateTable('resources')
      .set({
        status: sql<'EXPIRED' | 'RELEASED'>`case when id = any(${expired}::uuid[]) then 'EXPIRED' else 'RELEASED' end`,
        released_at: now,
        updated_at: now,
        error: null,
      })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('resources')
          .select('id')
          .where('id', '=', sql<string>`any(${ids}::uuid[])`)
          .where('status', '=', 'RELEASING')
          .orderBy('id')
          .forUpdate(),
      )
      .returning(['id', 'owner_id', 'resize_reservation_id'])
      .execute();
    // A pending resize's hold ends with its machine (an expiry claims RELEASING without the
    // release flow). Wallets are locked in owner order, so two batches cannot deadlock on them.
    const resizeReleased = new Map<string, number>();
    const withResize = ended.filter((r) => r.resize_reservation_id);
    withResize.sort((a, b) => a.owner_id.localeCompare(b.owner_id) || a.id.localeCompare(b.id));
    for (const row of withResize) resizeReleased.set(row.id, (await dropResize(trx, d, row)).released);
    const endedIds = new Set(ended.map((r) => r.id));
    const events = batch
      .filter((b) => endedIds.has(b.row.id))
      .map((b) => {
        const released = resizeReleased.get(b.row.id) ?? 0;
        return {
          type: 'vm' as const,
          action: b.expired ? 'resource.expired' : 'resource.released',
          actorId: b.actorId,
          ownerId: b.row.owner_id,
          resourceId: b.row.id,
          data: {
            ...(b.expired && b.row.expires_at ? { expiryLagMs: now.getTime() - b.row.expires_at.getTime() } : {}),
            ...(released > 0 ? { resizeHoldReleased: released } : {}),
          },
        };
      });
    await d.events.appendMany(trx, events);
  });
}
