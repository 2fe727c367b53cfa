/**
 * A job's history (`jobs.history`): one entry per run that ended or was taken over, newest
 * last, the newest `JOB_HISTORY_MAX` kept. It tells an operator why a job ran again: a
 * provisioner error (`retry`, `dead`: an attempt used up) or a lost runner (`takeover`: the
 * lease ran out with the job still running, which uses up no attempt).
 */
import { type RawBuilder, sql } from 'kysely';
import type { Logger } from '../provisioner/provisioner.js';

export type JobOutcome =
  /** The run finished. */
  | 'done'
  /** The run failed and the job will run again after a backoff (an attempt was used up). */
  | 'retry'
  /** The run failed with no attempt left. */
  | 'dead'
  /** The runner stopped (or lost its lease) mid-run and gave the job back, due now. */
  | 'handed_back'
  /** Another runner took the job over: its lease ran out while it was running (a crash). */
  | 'takeover';

export interface JobHistoryEntry {
  outcome: JobOutcome;
  /** ISO time of the outcome. */
  at: string;
  /** The attempt the run belonged to (a takeover continues the same attempt). */
  attempt: number;
  /** The runner that recorded it (for a takeover: the new owner). */
  by: string;
  /** Takeover: the runner whose lease ran out, and when it did. */
  from?: string | null;
  leaseUntil?: string | null;
  error?: string;
}

export const JOB_HISTORY_MAX = 50;

/**
 * Takeovers one attempt may absorb. A job whose runners keep dying under it (it crashes them:
 * out of memory, a native fault) must not be taken over for good, crash-looping every replica
 * in turn: past this many, a takeover begins a new attempt, so `max_attempts` still ends it.
 */
export const MAX_TAKEOVERS_PER_ATTEMPT = 5;

/** `jobs.history` with `entry` (a jsonb expression) appended, dropping the oldest beyond the cap. */
export function appendHistory(entry: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`(case when jsonb_array_length(history) >= ${sql.lit(JOB_HISTORY_MAX)}
    then history - 0 else history end) || jsonb_build_array(${entry})`;
}

/** A history entry written from JavaScript values. */
export const historyEntry = (entry: JobHistoryEntry): RawBuilder<unknown> => sql`${JSON.stringify(entry)}::jsonb`;

/**
 * The attempt a takeover of the row (as it was before the update) continues: the current one,
 * unless it has been taken over `MAX_TAKEOVERS_PER_ATTEMPT` times already (then the next one).
 */
export const takeoverAttempt = (): RawBuilder<number> =>
  sql<number>`case when (select count(*) from jsonb_array_elements(history) h
    where h->>'outcome' = 'takeover' and (h->>'attempt')::int = attempts) < ${sql.lit(MAX_TAKEOVERS_PER_ATTEMPT)}
    then attempts else attempts + 1 end`;

/**
 * The entry a claim writes when it takes over a running job whose lease ran out, from the
 * row's values before the update (PostgreSQL's SET reads the old row).
 */
export const takeoverEntry = (at: Date, by: string): RawBuilder<unknown> =>
  sql`jsonb_build_object('outcome', 'takeover', 'at', ${at.toISOString()}::text, 'attempt', ${takeoverAttempt()},
    'by', ${by}::text, 'from', locked_by, 'leaseUntil', to_char(locked_until at time zone 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

/** True when `job` was just taken over by `workerId` (the last entry is that claim's takeover). */
export function takenOverBy(history: readonly JobHistoryEntry[], workerId: string, at: Date): boolean {
  const last = history.at(-1);
  return last?.outcome === 'takeover' && last.by === workerId && last.at === at.toISOString();
}

/** A warning an operator can count: a job whose runner died under it (how often so far). */
export function logTakeover(
  logger: Logger,
  job: { id: number; kind: string; attempts: number; history: readonly JobHistoryEntry[] },
): void {
  logger.warn('job taken over: its runner lost the lease', {
    jobId: job.id,
    kind: job.kind,
    attempt: job.attempts,
    takeovers: job.history.filter((h) => h.outcome === 'takeover').length,
    from: job.history.at(-1)?.from ?? null,
  });
}
