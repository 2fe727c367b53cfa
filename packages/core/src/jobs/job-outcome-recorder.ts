/**
 * Writes how a run ended into the job's row and history: done, a failure (retried after a
 * backoff, or dead once its attempts are used up, when the handler's `onRetry`/`onDead` hook
 * runs), or handed back to the queue. Every write is conditional on the runner still owning
 * the job (`locked_by`, `state = 'running'`): a runner whose lease was taken over records
 * nothing, the new owner does.
 */
import { type Kysely, sql } from 'kysely';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { type BackoffPolicy, backoffDelay } from './backoff.js';
import { appendHistory, historyEntry, type JobOutcome } from './job-history.js';
import { JOBS_CHANNEL } from './job-queue.js';
import type { Job, JobHandler } from './job-runner.js';

export interface OutcomeRecorderDeps {
  db: Kysely<SlipwayDatabase>;
  clock: Clock;
  logger: Logger;
  backoff: BackoffPolicy;
  random: () => number;
  /** The runner that owns the jobs it records. */
  workerId: string;
  handlerFor: (kind: string) => JobHandler | undefined;
}

export class JobOutcomeRecorder {
  readonly #d: OutcomeRecorderDeps;

  constructor(deps: OutcomeRecorderDeps) {
    this.#d = deps;
  }

  /** The handler returned: the job is done. False when this runner no longer owns it. */
  done(job: Job): Promise<boolean> {
    return this.#finish(job, { state: 'done' });
  }

  /**
   * Hand a job this runner had to abandon back to the queue, due now and without using up an
   * attempt. A no-op when the lease was lost: the job belongs to another runner already.
   */
  async giveBack(job: Job): Promise<void> {
    const { db, clock, workerId } = this.#d;
    const now = clock.now();
    const res = await db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'queued',
        attempts: eb('attempts', '-', 1),
        locked_by: null,
        locked_until: null,
        run_at: now,
        updated_at: now,
        history: this.#entry(job, 'handed_back', now),
      }))
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    // Due now: any replica's idle runner may take it (an idle one sleeps until a NOTIFY).
    if (res.numUpdatedRows > 0n) await sql`select pg_notify(${JOBS_CHANNEL}, ${job.kind})`.execute(db);
  }

  /**
   * The handler threw: this, and only this, uses up an attempt (a crash or takeover never gets
   * here). Returns when the retry is due, when there is one and it is still this runner's.
   */
  async fail(job: Job, error: unknown): Promise<Date | undefined> {
    const { clock, logger, backoff, random } = this.#d;
    const message = error instanceof Error ? error.message : String(error);
    if (job.attempts < job.max_attempts) {
      const delay = backoffDelay(job.attempts, backoff, random);
      const runAt = new Date(clock.now().getTime() + delay);
      const owned = await this.#finish(job, { state: 'queued', last_error: message, run_at: runAt });
      if (!owned) return undefined; // another runner took the job over; its outcome is theirs to record
      logger.warn('job failed, will retry', {
        jobId: job.id,
        kind: job.kind,
        attempt: job.attempts,
        delay,
        error: message,
      });
      await this.#d
        .handlerFor(job.kind)
        ?.onRetry?.(job, error)
        .catch((e: unknown) => logger.warn('onRetry hook failed', { jobId: job.id, error: String(e) }));
      return runAt;
    }
    if (!(await this.#finish(job, { state: 'dead', last_error: message }))) return undefined;
    logger.error('job gave up', { jobId: job.id, kind: job.kind, attempts: job.attempts, error: message });
    await this.#d.handlerFor(job.kind)?.onDead?.(job, error);
    return undefined;
  }

  #entry(job: Job, outcome: JobOutcome, now: Date, error?: string) {
    const at = now.toISOString();
    // A provider's error can be long; the history keeps its start (`last_error` keeps all of the last one).
    const kept = error === undefined ? {} : { error: error.slice(0, 500) };
    const entry = { outcome, at, attempt: job.attempts, by: this.#d.workerId, ...kept };
    return appendHistory(historyEntry(entry));
  }

  /** Record the outcome; false when this runner no longer owns the job (its lease was taken over). */
  async #finish(
    job: Job,
    set: { state: 'done' | 'dead' | 'queued'; last_error?: string; run_at?: Date },
  ): Promise<boolean> {
    const now = this.#d.clock.now();
    const outcome: JobOutcome = set.state === 'queued' ? 'retry' : set.state;
    const res = await this.#d.db
      .updateTable('jobs')
      .set({
        state: set.state,
        locked_by: null,
        locked_until: null,
        updated_at: now,
        history: this.#entry(job, outcome, now, set.last_error),
        ...(set.last_error !== undefined ? { last_error: set.last_error } : {}),
        ...(set.run_at ? { run_at: set.run_at } : {}),
        ...(set.state === 'queued' ? {} : { finished_at: now }),
      })
      .where('id', '=', job.id)
      .where('locked_by', '=', this.#d.workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}
