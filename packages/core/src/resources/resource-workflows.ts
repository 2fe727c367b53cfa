/**
 * The worker side of the resource lifecycle, run as durable jobs (any replica, retried):
 *   resource.allocate  PROVISIONING → RUNNING (commit the hold) or FAILED (release it)
 *   resource.release   RELEASING → RELEASED / EXPIRED
 *   resource.cleanup   make sure nothing is left at the provider after a failed allocate
 * and the sweepers that reconcile what crashes leave behind: holds whose lease ran out,
 * and resources whose `expiresAt` passed.
 *
 * Invariant kept by every transaction here: PROVISIONING ⇔ hold pending; RUNNING/STOPPED/
 * RELEASING/RELEASED/EXPIRED ⇔ hold committed; FAILED ⇔ hold released (or committed when
 * the policy does not refund failures, or when the machine failed after it ran).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { errorMessage, isSlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { faultPoint } from '../faults.js';
import { enqueueJob } from '../jobs/job-queue.js';
import type { Job, JobRunner } from '../jobs/job-runner.js';
import type { CreditLedger } from '../ledger/ledger.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Clock, EventSink, Logger } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import { type Executor, jsonb } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { type ResourceRow, toAllocation } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';

export interface WorkflowDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  ledger: CreditLedger;
  events: EventLog;
  clock: Clock;
  logger: Logger;
  policy: ResourcePolicy;
  limiter: RateLimiter;
}

export const JOB_KINDS = {
  allocate: 'resource.allocate',
  release: 'resource.release',
  cleanup: 'resource.cleanup',
} as const;

/** Attempts of jobs that must eventually succeed (releases, cleanups): effectively forever. */
export const RETRY_FOREVER = 1_000_000;

export const jobKeys = {
  allocate: (id: string) => `allocate:${id}`,
  release: (id: string) => `release:${id}`,
  cleanup: (id: string) => `cleanup:${id}`,
};

/** Errors worth another attempt: time-outs and errors a provisioner marks `retryable`. */
export function isTransient(error: unknown): boolean {
  return isSlipwayError(error) && (error.code === 'PROVISIONER_TIMEOUT' || error.retryable);
}

export class ResourceWorkflows {
  readonly #d: WorkflowDeps;

  constructor(deps: WorkflowDeps) {
    this.#d = deps;
  }

  register(runner: JobRunner): void {
    runner.register(JOB_KINDS.allocate, {
      run: (job, signal) => this.#allocate(job, signal),
      onDead: (job, error) => this.#failAllocation(String(job.payload.resourceId), error),
    });
    // Releases never give up: a machine nobody pays for must not be left running. After
    // `releaseAttempts` they raise a critical event and keep retrying at the backoff cap.
    runner.register(JOB_KINDS.release, {
      run: (job, signal) => this.#release(job, signal),
      onRetry: (job, error) => this.#alertIfStuck(job, 'resource.release_failing', error),
      onDead: (job, error) => this.#critical(String(job.payload.resourceId), 'resource.release_failed', error),
    });
    runner.register(JOB_KINDS.cleanup, {
      run: (job, signal) => this.#cleanup(job, signal),
      onRetry: (job, error) => this.#alertIfStuck(job, 'resource.cleanup_failing', error),
      onDead: (job, error) => this.#critical(String(job.payload.resourceId), 'resource.cleanup_failed', error),
    });
    runner.register('provisioner:*', {
      run: (job, signal) => this.#provisionerJob(job, signal),
      onDead: async (job, error) => {
        await this.#d.events.append(this.#d.db, {
          type: 'system',
          action: 'provisioner.job_failed',
          severity: 'critical',
          data: { kind: job.kind, payload: job.payload, attempts: job.attempts, error: errorMessage(error) },
        });
      },
    });
  }

  async #allocate(job: Job, signal: AbortSignal): Promise<void> {
    const { db, ledger, events, clock } = this.#d;
    const row = await this.#row(db, String(job.payload.resourceId));
    if (row?.status !== 'PROVISIONING') return; // already settled: the job is a duplicate
    const runtime = this.#d.registry.get(row.provisioner);
    const renew = setInterval(() => void this.#renewHold(row), Math.max(50, this.#d.policy.holdTtlMs / 3));
    let allocation: Awaited<ReturnType<typeof runtime.allocate>>;
    try {
      allocation = await runtime.allocate(
        {
          resourceId: row.id,
          requestId: row.request_id,
          ownerId: row.owner_id,
          name: row.name,
          kind: row.kind,
          spec: row.spec as never,
          options: row.options,
          labels: row.labels,
          expiresAt: row.expires_at,
        },
        { signal, events: this.sink(row) },
      );
    } catch (error) {
      // Our runner is stopping or lost the lease: the job goes on elsewhere, nothing failed.
      if (signal.aborted) throw error;
      if (isTransient(error) && job.attempts < job.max_attempts) throw error; // retried with backoff
      await this.#failAllocation(row.id, error);
      return;
    } finally {
      clearInterval(renew);
    }

    faultPoint('allocate.before-commit');
    await db.transaction().execute(async (trx) => {
      const current = await this.#row(trx, row.id, true);
      // Another runner (after a lease takeover) committed this very machine: nothing to do.
      if (current?.status !== 'PROVISIONING' && current?.status !== 'FAILED') return;
      const charged =
        current.status === 'PROVISIONING' && current.reservation_id
          ? await ledger.commit(trx, current.reservation_id, {
              charge: allocation.cost ?? current.cost,
              resourceId: row.id,
              actorId: row.owner_id,
            })
          : null;
      if (charged === null) {
        // The allocation was given up meanwhile (FAILED, hold released): a machine without a
        // hold behind it must not live on. Enqueued in this transaction, so a crash cannot lose it;
        // no dedupe key, so a cleanup that already ran (and found nothing yet) cannot swallow it.
        await enqueueJob(trx, clock.now(), {
          kind: JOB_KINDS.cleanup,
          payload: { resourceId: row.id },
          maxAttempts: RETRY_FOREVER,
        });
        return;
      }
      await trx
        .updateTable('resources')
        .set({
          status: allocation.state === 'stopped' ? 'STOPPED' : 'RUNNING',
          external_id: allocation.externalId,
          ip: allocation.ip ?? null,
          ssh_port: allocation.sshPort ?? null,
          cockpit_url: allocation.cockpitUrl ?? null,
          allocation_data: allocation.data ? jsonb(allocation.data) : null,
          cost: charged,
          updated_at: clock.now(),
        })
        .where('id', '=', row.id)
        .execute();
      await events.append(trx, {
        type: 'vm',
        action: 'resource.created',
        actorId: row.owner_id,
        ownerId: row.owner_id,
        resourceId: row.id,
        data: { externalId: allocation.externalId, charged, ip: allocation.ip ?? null, attempt: job.attempts },
      });
    });
  }

  /** Final failure of an allocation: release (or charge, per policy) the hold, mark FAILED, clean up. */
  async #failAllocation(resourceId: string, error: unknown): Promise<void> {
    const { db, ledger, events, clock, policy } = this.#d;
    await db.transaction().execute(async (trx) => {
      const row = await this.#row(trx, resourceId, true);
      if (row?.status !== 'PROVISIONING' || !row.reservation_id) return;
      const refunded = policy.refundOnFailure
        ? await ledger.release(trx, row.reservation_id)
        : (await ledger.commit(trx, row.reservation_id, { resourceId, actorId: row.owner_id })) === null;
      const code = isSlipwayError(error) ? error.code : 'PROVISIONER_FAILED';
      await trx
        .updateTable('resources')
        .set({
          status: 'FAILED',
          error: errorMessage(error),
          error_code: code,
          cost: policy.refundOnFailure ? 0 : row.cost,
          updated_at: clock.now(),
        })
        .where('id', '=', resourceId)
        .execute();
      await this.#enqueueCleanup(trx, resourceId);
      await events.append(trx, {
        type: 'vm',
        action: 'resource.failed',
        severity: 'warning',
        actorId: row.owner_id,
        ownerId: row.owner_id,
        resourceId,
        data: { error: errorMessage(error), code, refunded },
      });
    });
  }

  async #release(job: Job, signal: AbortSignal): Promise<void> {
    const { db, events, clock } = this.#d;
    const row = await this.#row(db, String(job.payload.resourceId));
    if (row?.status !== 'RELEASING') return;
    if (row.external_id) {
      await this.#d.registry.get(row.provisioner).release(toAllocation(row), { signal, events: this.sink(row) });
    }
    const expired = job.payload.reason === 'expired';
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const res = await trx
        .updateTable('resources')
        .set({ status: expired ? 'EXPIRED' : 'RELEASED', released_at: now, updated_at: now, error: null })
        .where('id', '=', row.id)
        .where('status', '=', 'RELEASING')
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) return;
      await events.append(trx, {
        type: 'vm',
        action: expired ? 'resource.expired' : 'resource.released',
        actorId: typeof job.payload.actorId === 'string' ? job.payload.actorId : null,
        ownerId: row.owner_id,
        resourceId: row.id,
        data: expired && row.expires_at ? { expiryLagMs: now.getTime() - row.expires_at.getTime() } : {},
      });
    });
  }

  async #alertIfStuck(job: Job, action: string, error: unknown): Promise<void> {
    if (job.attempts !== this.#d.policy.releaseAttempts) return;
    const resourceId = String(job.payload.resourceId);
    await this.#d.db
      .updateTable('resources')
      .set({ error: `${action}: ${errorMessage(error)}`, updated_at: this.#d.clock.now() })
      .where('id', '=', resourceId)
      .execute();
    await this.#critical(resourceId, action, error);
  }

  async #cleanup(job: Job, signal: AbortSignal): Promise<void> {
    const row = await this.#row(this.#d.db, String(job.payload.resourceId));
    // Only a machine no hold stands behind: a committed one (external id set) belongs to the
    // release flow, and must never be destroyed under its paying user.
    if (!row || row.external_id !== null || (row.status !== 'FAILED' && row.status !== 'RELEASED')) return;
    await this.#d.registry
      .get(row.provisioner)
      .release({ ...toAllocation(row), externalId: row.external_id ?? '' }, { signal, events: this.sink(row) });
  }

  async #provisionerJob(job: Job, signal: AbortSignal): Promise<void> {
    const [, name = '', kind = ''] = job.kind.split(':');
    await this.#d.registry.get(name).runJob(kind, job.payload, { signal, events: this.#systemSink(name) });
  }

  /**
   * One pass of the sweepers: reconcile holds whose lease ran out, start the release of
   * resources past `expiresAt`, prune old rate-limit windows and finished jobs. Safe on
   * every replica at once.
   */
  async sweep(): Promise<{ holdsReconciled: number; expired: number }> {
    const holdsReconciled = await this.#sweepHolds();
    const expired = await this.#sweepExpired();
    const now = this.#d.clock.now();
    await this.#d.limiter.prune(this.#d.db, now);
    // Finished jobs are history after a while; dead ones stay for an operator to inspect.
    await this.#d.db
      .deleteFrom('jobs')
      .where('state', '=', 'done')
      .where('finished_at', '<', new Date(now.getTime() - this.#d.policy.keepDoneJobsMs))
      .execute();
    return { holdsReconciled, expired };
  }

  async #sweepHolds(): Promise<number> {
    const { db, clock } = this.#d;
    const now = clock.now();
    const stale = await db
      .selectFrom('reservations')
      .select(['id', 'resource_id'])
      .where('state', '=', 'pending')
      .where('expires_at', '<', now)
      .limit(100)
      .execute();
    let n = 0;
    for (const hold of stale) {
      if (!hold.resource_id) continue;
      try {
        if (await this.#reconcileHold(hold.id, hold.resource_id, now)) n += 1;
      } catch (error) {
        this.#d.logger.warn('hold reconciliation failed; will retry', {
          reservationId: hold.id,
          error: errorMessage(error),
        });
      }
    }
    return n;
  }

  /** A hold whose lease ran out: renew it if its allocation is alive, else ask the provider. */
  async #reconcileHold(reservationId: string, resourceId: string, now: Date): Promise<boolean> {
    const { db } = this.#d;
    const active = await db
      .selectFrom('jobs')
      .select('id')
      .where('key', '=', jobKeys.allocate(resourceId))
      .where((eb) =>
        eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'running'), eb('locked_until', '>=', now)])]),
      )
      .executeTakeFirst();
    const row = await this.#row(db, resourceId);
    if (!row) return false;
    if (active) {
      await this.#renewHold(row);
      return false;
    }
    const status = await this.#d.registry
      .get(row.provisioner)
      .status({ ...toAllocation(row), externalId: row.external_id ?? '' }, { events: this.sink(row) });
    if (status.state !== 'gone' && status.state !== 'failed') {
      // The machine exists: finish the allocation (allocate is idempotent and returns it), then commit.
      await enqueueJob(db, now, {
        kind: JOB_KINDS.allocate,
        payload: { resourceId },
        key: jobKeys.allocate(resourceId),
        maxAttempts: this.#d.policy.allocateAttempts,
      });
      await this.#renewHold(row);
      return true;
    }
    await db.transaction().execute(async (trx) => {
      const current = await this.#row(trx, resourceId, true);
      if (current?.status !== 'PROVISIONING' || current.reservation_id !== reservationId) return;
      await this.#d.ledger.release(trx, reservationId, 'expired');
      await trx
        .updateTable('resources')
        .set({
          status: 'FAILED',
          error: 'allocation did not complete before its hold expired',
          error_code: 'PROVISIONER_FAILED',
          cost: 0,
          updated_at: this.#d.clock.now(),
        })
        .where('id', '=', resourceId)
        .execute();
      await this.#enqueueCleanup(trx, resourceId);
      await this.#d.events.append(trx, {
        type: 'vm',
        action: 'resource.hold_expired',
        severity: 'warning',
        ownerId: current.owner_id,
        resourceId,
        data: { reservationId },
      });
    });
    return true;
  }

  async #sweepExpired(): Promise<number> {
    const { db, clock, events } = this.#d;
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const rows = await trx
        .updateTable('resources')
        .set({ status: 'RELEASING', updated_at: now })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('resources')
            .select('id')
            // A machine that failed after it ran still exists at the provider: it expires too.
            .where((eb) =>
              eb.or([
                eb('status', 'in', ['RUNNING', 'STOPPED']),
                eb.and([eb('status', '=', 'FAILED'), eb('external_id', 'is not', null)]),
              ]),
            )
            .where('expires_at', '<=', now)
            .limit(100)
            .forUpdate()
            .skipLocked(),
        )
        .returning(['id', 'owner_id', 'expires_at'])
        .execute();
      for (const r of rows) {
        await enqueueJob(trx, now, {
          kind: JOB_KINDS.release,
          payload: { resourceId: r.id, reason: 'expired' },
          key: jobKeys.release(r.id),
          maxAttempts: RETRY_FOREVER,
        });
      }
      // Events last: an event append holds the event-order lock until commit.
      for (const r of rows) {
        await events.append(trx, {
          type: 'vm',
          action: 'resource.expiring',
          ownerId: r.owner_id,
          resourceId: r.id,
          data: { expiresAt: r.expires_at?.toISOString() ?? null },
        });
      }
      return rows.length;
    });
  }

  async #renewHold(row: ResourceRow): Promise<void> {
    if (!row.reservation_id) return;
    const until = new Date(this.#d.clock.now().getTime() + this.#d.policy.holdTtlMs);
    await this.#d.db
      .updateTable('reservations')
      .set({ expires_at: until })
      .where('id', '=', row.reservation_id)
      .where('state', '=', 'pending')
      .execute()
      .catch((error: unknown) => this.#d.logger.warn('hold renewal failed', { error: errorMessage(error) }));
  }

  async #enqueueCleanup(db: Executor, resourceId: string): Promise<void> {
    await enqueueJob(db, this.#d.clock.now(), {
      kind: JOB_KINDS.cleanup,
      payload: { resourceId },
      key: jobKeys.cleanup(resourceId),
      maxAttempts: RETRY_FOREVER,
    });
  }

  async #critical(resourceId: string, action: string, error: unknown): Promise<void> {
    const row = await this.#row(this.#d.db, resourceId);
    await this.#d.events.append(this.#d.db, {
      type: 'vm',
      action,
      severity: 'critical',
      ownerId: row?.owner_id ?? null,
      resourceId,
      data: { error: errorMessage(error) },
    });
  }

  async #row(db: Executor, id: string, forUpdate = false): Promise<ResourceRow | undefined> {
    const q = db.selectFrom('resources').selectAll().where('id', '=', id);
    return (forUpdate ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Events a provisioner emits are stored against the resource. */
  sink(row: Pick<ResourceRow, 'id' | 'owner_id' | 'provisioner'>): EventSink {
    return {
      emit: (event) => {
        this.#d.events
          .append(this.#d.db, {
            type: 'vm',
            action: event.action,
            severity: event.severity ?? 'info',
            ownerId: row.owner_id,
            resourceId: row.id,
            data: { provisioner: row.provisioner, ...event.data },
          })
          .catch((error: unknown) =>
            this.#d.logger.warn('could not store provisioner event', { error: errorMessage(error) }),
          );
      },
    };
  }

  #systemSink(provisioner: string): EventSink {
    return {
      emit: (event) => {
        this.#d.events
          .append(this.#d.db, {
            type: 'system',
            action: event.action,
            severity: event.severity ?? 'info',
            data: { provisioner, ...event.data },
          })
          .catch((error: unknown) =>
            this.#d.logger.warn('could not store provisioner event', { error: errorMessage(error) }),
          );
      },
    };
  }
}

/** Used by tests and diagnostics: jobs not yet finished. */
export async function activeJobCount(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select(sql<number>`count(*)`.as('n'))
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
