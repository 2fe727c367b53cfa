/**
 * Runs durable jobs. Any number of runners (replicas) share one jobs table: a job is taken
 * with FOR UPDATE SKIP LOCKED under a lease that the runner renews while it works; a
 * crashed runner's lease runs out and another runner takes the job again. Failures retry
 * with exponential backoff and jitter up to `max_attempts`, keeping the last error; then the
 * job is dead and its `onDead` hook runs (critical event, compensation).
 *
 * Only a failure recorded here (the handler threw) uses up an attempt. A crash, a lease
 * takeover or a shutdown never does: a takeover continues the attempt (job-claim.ts), a
 * shutdown hands the job back. Each outcome and takeover is written to `jobs.history`
 * (outcomes by job-outcome-recorder.ts).
 *
 * A job pinned to a host (`jobs.host`) is taken only by the runner serving that host
 * (`hosts()`) while the host's row is up and held by it (`hosts.replica_id` = `workerId`);
 * every runner takes unpinned ones.
 *
 * The loop refills a slot the moment a job in it finishes: it claims for every free slot in
 * one go (job-slots.ts: a floor of `backgroundSlots` background jobs, then user work,
 * background work kept off the last `urgentSlots`, capped kinds up to their room) and
 * sleeps only when nothing it may take is due; a finished job, a NOTIFY or `pollMs` wakes it.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { JobsTable, SlipwayDatabase } from '../storage/schema.js';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
import { type ClaimOptions, claimJobs, type KindPattern } from './job-claim.js';
import { logTakeover, takenOverBy } from './job-history.js';
import { JobOutcomeRecorder } from './job-outcome-recorder.js';
import { fillSlots, planClaims, type RunningJob } from './job-slots.js';
import { LoopAlarm } from './loop-alarm.js';

export type Job = Selectable<JobsTable>;

export interface JobHandler {
  /** What it resolves to reaches a caller that ran the job itself (`adopt`); the runner ignores it. */
  run(job: Job, signal: AbortSignal): Promise<unknown>;
  /** Called after each failed attempt that will be retried (alerting, metrics). */
  onRetry?(job: Job, error: unknown): Promise<void>;
  /** Called once when the job has used its last attempt. */
  onDead?(job: Job, error: unknown): Promise<void>;
}

export interface JobRunnerOptions {
  db: Kysely<SlipwayDatabase>;
  clock: Clock;
  logger: Logger;
  /** A job's lease; renewed every third of it while the job runs. Default 30 s. */
  leaseMs?: number;
  /** Jobs run at once by this runner. Default 8. */
  concurrency?: number;
  /**
   * Slots background jobs (priority ≥ `JOB_PRIORITY.background`: expiry releases, reaping,
   * cleanups, provisioner hooks) never take, kept for user-facing work. Default 1; at most
   * `concurrency - 1`, so 0 when `concurrency` is 1 (job-slots.ts).
   */
  urgentSlots?: number;
  /**
   * The floor for background jobs: while fewer of them run and some are due, they are claimed
   * before user work, so constant user load cannot starve them. Default 1; at most
   * `concurrency - urgentSlots` and `concurrency - 1`, so 0 when `concurrency` is 1.
   */
  backgroundSlots?: number;
  /**
   * The most jobs of a kind this runner runs at once, by kind (a pattern ending in `*` counts
   * every kind with that prefix; patterns should not overlap). Default: no cap but `concurrency`.
   */
  kindConcurrency?: Record<KindPattern, number>;
  /** Poll interval when nothing is due (a NOTIFY or a finished job wakes it sooner). Default 1 s. */
  pollMs?: number;
  backoff?: Partial<BackoffPolicy>;
  random?: () => number;
  /**
   * The hosts this runner serves, read at each claim; their `hosts` rows name this runner's
   * `workerId` as their replica. Default: none (only unpinned jobs).
   */
  hosts?: () => readonly string[];
}

export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly #o: Required<Omit<JobRunnerOptions, 'backoff'>> & { backoff: BackoffPolicy };
  readonly #handlers = new Map<string, JobHandler>();
  readonly #prefixHandlers = new Map<string, JobHandler>();
  readonly #running = new Map<number, RunningJob & { controller: AbortController; done: Promise<void> }>();
  readonly #outcomes: JobOutcomeRecorder;
  #loop: Promise<void> | undefined;
  #stopping = false;
  /** The last fill's claims all came back short: nothing more this runner may take was due. */
  #drained = false;
  readonly #alarm: LoopAlarm;

  constructor(options: JobRunnerOptions) {
    this.#o = {
      leaseMs: 30_000,
      concurrency: 8,
      urgentSlots: 1,
      backgroundSlots: 1,
      kindConcurrency: {},
      pollMs: 1_000,
      random: Math.random,
      hosts: () => [],
      ...options,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    };
    this.#alarm = new LoopAlarm(this.#o.pollMs);
    const handlerFor = (kind: string) => this.#handlerFor(kind);
    this.#outcomes = new JobOutcomeRecorder({ ...this.#o, workerId: this.workerId, handlerFor });
  }

  /** Handle jobs of `kind`; a kind ending in `*` handles every kind with that prefix. */
  register(kind: string, handler: JobHandler): void {
    if (kind.endsWith('*')) this.#prefixHandlers.set(kind.slice(0, -1), handler);
    else this.#handlers.set(kind, handler);
  }

  /** Take and run every job that is due now, until none is left; returns how many ran. */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.#stopping) return total; // a stopping runner takes nothing new
      const jobs = await this.#fill();
      if (jobs.length === 0) return total;
      total += jobs.length;
      await Promise.all(jobs.map((job) => this.#execute(job)));
    }
  }

  /**
   * Run one job now if it is still queued (the fast path for a request that waits for its
   * own job). Returns false when another runner has it or it is not due.
   */
  async runNow(jobId: number): Promise<boolean> {
    if (this.#stopping) return false;
    const [job] = await this.#claim({ limit: 1, onlyId: jobId });
    if (!job) return false;
    await this.#execute(job);
    return true;
  }

  /**
   * The claim a job enqueued for this runner starts with (job-queue.ts `enqueueClaimedJob`),
   * or undefined while the runner is stopping (enqueue it for any runner instead).
   */
  claimFor(now: Date): { by: string; until: Date } | undefined {
    if (this.#stopping) return undefined;
    return { by: this.workerId, until: new Date(now.getTime() + this.#o.leaseMs) };
  }

  /**
   * Run a job enqueued already claimed by this runner (`claimFor`), like `runNow` without
   * the claim. Resolves to what its handler returned; undefined when this runner is stopping
   * (the job is handed back to the queue) or the job failed.
   */
  async adopt(job: Job): Promise<unknown> {
    if (this.#stopping) {
      await this.#outcomes.giveBack(job);
      return undefined;
    }
    if (job.locked_by !== this.workerId) return undefined; // not claimed for this runner
    // The lease began when the enqueuing transaction started: renew it first if that was long
    // ago, and leave the job alone when another runner took it over meanwhile.
    const left = (job.locked_until?.getTime() ?? 0) - this.#o.clock.now().getTime();
    if (left < (this.#o.leaseMs * 2) / 3 && !(await this.#extendLease(job))) return undefined;
    // `stop()` may have begun during that await: it waits only for running jobs, not this one.
    if (this.#stopping) {
      await this.#outcomes.giveBack(job);
      return undefined;
    }
    return this.#execute(job);
  }

  /** Start the background loop. */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Wake the loop now (a NOTIFY arrived). */
  wake(): void {
    this.#alarm.wake();
  }

  /** Stop taking jobs; abort and await the running ones (their leases will expire). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#alarm.clear();
    this.wake();
    for (const r of this.#running.values()) r.controller.abort(new Error('job runner stopping'));
    await this.#loop;
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#alarm.arm(); // a wake from here on (a job finishing mid-claim) is not lost
      try {
        for (const job of await this.#fill()) void this.#execute(job);
      } catch (error) {
        this.#o.logger.error('job claim failed', { error: String(error) });
      }
      // Every slot is busy or nothing we may take is due: a finished job or a NOTIFY wakes us.
      await this.#alarm.sleep();
      // Let timers and I/O in before the next claim: on PGlite a query settles in microtasks,
      // so a backlog refilled from finishing jobs would otherwise hold the event loop to itself.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Claim for every free slot, in job-slots.ts order. */
  async #fill(): Promise<Job[]> {
    const { concurrency, urgentSlots, backgroundSlots, kindConcurrency } = this.#o;
    const settings = { concurrency, urgentSlots, backgroundSlots, kindConcurrency };
    const { taken, drained } = await fillSlots(planClaims([...this.#running.values()], settings), (claim) =>
      this.#claim(claim),
    );
    this.#drained = drained;
    return taken;
  }

  async #claim(claim: Pick<ClaimOptions, 'limit' | 'onlyId' | 'priority' | 'kinds'>): Promise<Job[]> {
    const { db, clock, leaseMs, hosts, logger } = this.#o;
    const now = clock.now();
    const running = [...this.#running.keys()];
    const jobs = await claimJobs(db, { ...claim, now, leaseMs, workerId: this.workerId, hosts: hosts(), running });
    for (const job of jobs) if (takenOverBy(job.history, this.workerId, now)) logTakeover(logger, job);
    return jobs;
  }

  #handlerFor(kind: string): JobHandler | undefined {
    const exact = this.#handlers.get(kind);
    if (exact) return exact;
    for (const [prefix, handler] of this.#prefixHandlers) if (kind.startsWith(prefix)) return handler;
    return undefined;
  }

  async #execute(job: Job): Promise<unknown> {
    const controller = new AbortController();
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    this.#running.set(job.id, { kind: job.kind, priority: job.priority, controller, done });
    const heartbeat = setInterval(() => void this.#renew(job, controller), Math.max(10, this.#o.leaseMs / 3));
    let succeeded = false;
    try {
      const handler = this.#handlerFor(job.kind);
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      // Only takeovers past their budget get here (job-history.ts MAX_TAKEOVERS_PER_ATTEMPT).
      if (job.attempts > job.max_attempts) throw new Error('attempts exhausted: its runners kept losing the lease');
      const result = await handler.run(job, controller.signal);
      await this.#outcomes.done(job);
      succeeded = true;
      return result;
    } catch (error) {
      // Aborted by this runner (stopping, or its lease was lost): not the job's failure.
      const settle = controller.signal.aborted ? this.#outcomes.giveBack(job) : this.#outcomes.fail(job, error);
      const retryAt = await settle.catch((e: unknown) =>
        this.#o.logger.error('could not record job failure', { jobId: job.id, error: String(e) }),
      );
      if (retryAt) this.#alarm.wakeIn(retryAt.getTime() - this.#o.clock.now().getTime());
      return undefined;
    } finally {
      clearInterval(heartbeat);
      this.#running.delete(job.id);
      resolveDone();
      // Its slot is free: refill it now, not after pollMs. Unless it succeeded and the last fill
      // found nothing more due: then a claim would find nothing (a request's own adopted job
      // ending after each create). New and handed-back jobs announce themselves by NOTIFY and
      // retries by a timer; jobs due by `runAt` or an ended lease wait for pollMs.
      if (!(succeeded && this.#drained)) this.wake();
    }
  }

  async #renew(job: Job, controller: AbortController): Promise<void> {
    try {
      // Someone else took the job over (our lease lapsed): stop working on it.
      if (!(await this.#extendLease(job))) controller.abort(new Error('job lease lost'));
    } catch (error) {
      this.#o.logger.warn('job lease renewal failed', { jobId: job.id, error: String(error) });
    }
  }

  /** Push the job's lease one `leaseMs` on; false when it is no longer this runner's. */
  async #extendLease(job: Job): Promise<boolean> {
    const now = this.#o.clock.now();
    const res = await this.#o.db
      .updateTable('jobs')
      .set({ locked_until: new Date(now.getTime() + this.#o.leaseMs), updated_at: now })
      .where('id', '=', job.id)
      .where('locked_by', '=', this.workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}
