/**
 * The orphan reaper every provisioner with `inventory` gets. Sweeps are durable jobs
 * (`reaper.sweep`), one per provisioner at a time (per host for a host-placed provisioner,
 * pinned to the host's replica, since its inventory is that host's): a job key dedupes them,
 * so N replicas scheduling at once make one job. `schedule()` runs with the other sweepers on
 * every replica and enqueues a scope's next sweep due one interval after its last one started;
 * a failing sweep retries with backoff, then waits for the next interval.
 */
import { type Actor, isAdmin } from '../../domain.js';
import { errorMessage, SlipwayError } from '../../errors.js';
import { enqueueJob, JOB_PRIORITY } from '../../jobs/job-queue.js';
import type { Job, JobHandler, JobRunner } from '../../jobs/job-runner.js';
import type { Executor } from '../../storage/executor.js';
import type { WorkerDeps } from '../worker-deps.js';
import { sweepInventory } from './inventory-sweep.js';
import { lastSweepStart, lastSweeps } from './reaper-repository.js';
import { DEFAULT_REAPER_SETTINGS, type OrphanSweep, type ReaperScope, type ReaperSettings } from './reaper-settings.js';

export const REAPER_JOB = 'reaper.sweep';

/** The job key of a scope's sweep: one queued or running per scope. */
export const reaperKey = (scope: ReaperScope): string =>
  `reaper:${scope.provisioner}${scope.host === null ? '' : `@${scope.host}`}`;

export class Reaper {
  readonly settings: ReaperSettings;
  readonly #d: WorkerDeps;

  constructor(deps: WorkerDeps, settings: Partial<ReaperSettings> = {}) {
    this.#d = deps;
    this.settings = { ...DEFAULT_REAPER_SETTINGS, ...settings };
    if (!(this.settings.intervalMs > 0) || !(this.settings.graceMs >= 0) || !(this.settings.attempts >= 1)) {
      throw new SlipwayError('CONFIG_INVALID', 'reaper: intervalMs must be > 0, graceMs ≥ 0, attempts ≥ 1', {
        details: { field: 'reaper' },
      });
    }
  }

  register(runner: Pick<JobRunner, 'register'>): void {
    runner.register(REAPER_JOB, this.#handler());
  }

  /**
   * The scopes this replica sweeps: every provisioner with `inventory`; a host-placed one only
   * for the host this replica serves (another replica sweeps its own host).
   */
  scopes(): ReaperScope[] {
    return this.#d.registry.list().flatMap((p) => {
      if (!p.has('inventory')) return [];
      const host = p.host()?.name ?? null;
      if (host !== null && !this.#d.hosts.serves(host)) return [];
      return [{ provisioner: p.name, host }];
    });
  }

  /** Enqueue each scope's next sweep unless one is queued or running; returns how many were enqueued. */
  async schedule(): Promise<number> {
    if (!this.settings.enabled) return 0;
    const { db, clock } = this.#d;
    let enqueued = 0;
    for (const scope of this.scopes()) {
      // Most ticks find the sweep queued already: one indexed read instead of a conflicting insert.
      if (await activeJob(db, reaperKey(scope))) continue;
      const last = await lastSweepStart(db, scope);
      const now = clock.now();
      const runAt = last ? new Date(Math.max(now.getTime(), last.getTime() + this.settings.intervalMs)) : now;
      const id = await enqueueJob(db, now, {
        kind: REAPER_JOB,
        payload: { provisioner: scope.provisioner, host: scope.host },
        key: reaperKey(scope),
        maxAttempts: this.settings.attempts,
        runAt,
        host: scope.host,
        priority: JOB_PRIORITY.background,
      });
      if (id !== undefined) enqueued += 1;
    }
    return enqueued;
  }

  /** The newest sweep of every scope. Admins only (FORBIDDEN otherwise). */
  async lastSweeps(actor: Actor): Promise<OrphanSweep[]> {
    if (!isAdmin(actor)) throw new SlipwayError('FORBIDDEN', 'only admins see the orphan sweeps');
    return lastSweeps(this.#d.db);
  }

  #handler(): JobHandler {
    const d = this.#d;
    return {
      run: async (job, signal) => {
        await sweepInventory(d, this.settings, scopeOf(job), signal);
      },
      onDead: async (job, error) => {
        const scope = scopeOf(job);
        await d.events.append(d.db, {
          type: 'system',
          action: 'provisioner.reaper_failed',
          severity: 'warning',
          data: { ...scope, attempts: job.attempts, error: errorMessage(error) },
        });
      },
    };
  }
}

async function activeJob(db: Executor, key: string): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('key', '=', key)
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return row !== undefined;
}

function scopeOf(job: Job): ReaperScope {
  const { provisioner, host } = job.payload;
  return { provisioner: String(provisioner), host: typeof host === 'string' ? host : null };
}
