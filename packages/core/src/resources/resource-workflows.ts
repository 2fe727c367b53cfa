/**
 * The worker side of the resource lifecycle, run as durable jobs (any replica, retried),
 * one handler module per kind:
 *   resource.allocate  PROVISIONING → RUNNING (commit the hold) or FAILED (release it)   jobs/allocate-job.ts
 *   resource.release   RELEASING → RELEASED / EXPIRED                                     jobs/release-job.ts
 *   resource.cleanup   make sure nothing is left at the provider after a failed allocate jobs/cleanup-job.ts
 *   resource.operate   power, resize, hotplug: the resource's one operation in flight    jobs/operation-job.ts
 *   provisioner:*      a provisioner's own jobs                                          jobs/provisioner-job.ts
 * and the sweepers that reconcile what crashes leave behind (sweepers/): holds whose lease
 * ran out (or whose host went silent for good), resources whose `expiresAt` passed,
 * operations whose job ended without settling them, and history to prune; and what
 * provisioners' watchers report (watch/). The orphan reaper (reaper/, its own `reaper.sweep`
 * jobs) releases what the provider has and no live resource stands behind, and marks GONE
 * what we think runs but the provider no longer has.
 *
 * Invariants kept by every transaction of these modules:
 * - PROVISIONING ⇔ hold pending; RUNNING/STOPPED/RELEASING/RELEASED/EXPIRED/GONE ⇔ hold
 *   committed; FAILED ⇔ hold released (or committed when the policy does not refund
 *   failures, or when the machine failed after it ran).
 * - Events are appended last in a transaction: an append takes the event-order lock,
 *   held until commit.
 * - No transaction is held open across a provisioner call.
 */
import { sql } from 'kysely';
import type { JobRunner } from '../jobs/job-runner.js';
import type { MachineReport } from '../provisioner/capabilities.js';
import type { EventSink } from '../provisioner/provisioner.js';
import type { Executor } from '../storage/executor.js';
import { allocateJob } from './jobs/allocate-job.js';
import { cleanupJob } from './jobs/cleanup-job.js';
import { expiryJob } from './jobs/expiry-job.js';
import { operationJob } from './jobs/operation-job.js';
import { PROVISIONER_JOBS, provisionerJob } from './jobs/provisioner-job.js';
import { releaseCompletions } from './jobs/release-completions.js';
import { releaseJob } from './jobs/release-job.js';
import { JOB_KINDS } from './jobs/resource-jobs.js';
import { type ResourceRow, resourceSink } from './resource-mapper.js';
import { sweepExpired } from './sweepers/expiry-sweeper.js';
import { sweepHolds } from './sweepers/hold-sweeper.js';
import { sweepOperations } from './sweepers/operation-sweeper.js';
import { prune } from './sweepers/prune-sweeper.js';
import { applyMachineReport } from './watch/machine-reports.js';
import type { WorkerDeps } from './worker-deps.js';

export class ResourceWorkflows {
  readonly #d: WorkerDeps;

  constructor(deps: WorkerDeps) {
    this.#d = deps;
  }

  /** Register the resource job handlers (and provisioners' own jobs) with a runner. */
  register(runner: Pick<JobRunner, 'register'>): void {
    runner.register(JOB_KINDS.allocate, allocateJob(this.#d));
    const completions = releaseCompletions(this.#d);
    runner.register(JOB_KINDS.release, releaseJob(this.#d, completions));
    runner.register(JOB_KINDS.expire, expiryJob(this.#d, completions));
    runner.register(JOB_KINDS.cleanup, cleanupJob(this.#d));
    runner.register(JOB_KINDS.operate, operationJob(this.#d));
    runner.register(PROVISIONER_JOBS, provisionerJob(this.#d));
  }

  /**
   * One pass of the sweepers: reconcile holds whose lease ran out, start the release of
   * resources past `expiresAt`, prune old rate-limit windows and finished jobs. Safe on
   * every replica at once.
   */
  async sweep(): Promise<{ holdsReconciled: number; expired: number; operationsFailed: number }> {
    const holdsReconciled = await sweepHolds(this.#d);
    const expired = await sweepExpired(this.#d);
    const operationsFailed = await sweepOperations(this.#d);
    await prune(this.#d, this.#d.clock.now());
    return { holdsReconciled, expired, operationsFailed };
  }

  /** Apply what a provisioner's watcher reports about one of its machines. */
  report(provisioner: string, resourceId: string, report: MachineReport): Promise<void> {
    return applyMachineReport(this.#d, provisioner, resourceId, report);
  }

  /** Events a provisioner emits while working on `row` are stored against the resource. */
  sink(row: Pick<ResourceRow, 'id' | 'owner_id' | 'provisioner'>): EventSink {
    return resourceSink(this.#d.eventService, row);
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
