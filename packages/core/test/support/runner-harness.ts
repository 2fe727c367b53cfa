/**
 * What the job runner tests share: a fresh database, runners on it that only finished jobs and
 * `wake()` drive (their poll never comes within a test), jobs enqueued by kind and priority,
 * and a gate jobs wait at.
 */
import { sql } from 'kysely';
import {
  type DatabaseEngine,
  enqueueJob,
  JOB_PRIORITY,
  JobRunner,
  type JobRunnerOptions,
  silentLogger,
  systemClock,
} from '../../src/index.js';
import { createTestStorage, type TestStorage } from '../../src/testing/index.js';

const HOUR = 3_600_000;

export interface RunnerHarness {
  storage: TestStorage;
  /** A runner on the harness's database (stopped by `close`). */
  runner(options?: Partial<JobRunnerOptions>): JobRunner;
  /** One job, due now (default priority: user). */
  enqueue(kind: string, priority?: number): Promise<number | undefined>;
  /** `n` queued jobs due a minute ago (by due time alone they would all go first). */
  backlog(kind: string, n: number, priority?: number): Promise<void>;
  /** Jobs done, of `kind` or of any kind. */
  doneCount(kind?: string): Promise<number>;
  /** Stop every runner, then close the database. */
  close(): Promise<void>;
}

export async function runnerHarness(engine: DatabaseEngine): Promise<RunnerHarness> {
  const storage = await createTestStorage(engine);
  const runners: JobRunner[] = [];
  return {
    storage,
    runner(options = {}) {
      const runner = new JobRunner({
        db: storage.db,
        clock: systemClock,
        logger: silentLogger,
        pollMs: HOUR,
        ...options,
      });
      runners.push(runner);
      return runner;
    },
    enqueue: (kind, priority) =>
      enqueueJob(storage.db, new Date(), { kind, payload: {}, ...(priority === undefined ? {} : { priority }) }),
    async backlog(kind, n, priority = JOB_PRIORITY.background) {
      await sql`insert into jobs (kind, payload, state, max_attempts, run_at, created_at, updated_at, priority)
        select ${kind}, '{}'::jsonb, 'queued', 1, now() - interval '1 minute', now(), now(), ${priority}
        from generate_series(1, ${n})`.execute(storage.db);
    },
    async doneCount(kind) {
      let q = storage.db.selectFrom('jobs').select(sql<string>`count(*)`.as('n')).where('state', '=', 'done');
      if (kind !== undefined) q = q.where('kind', '=', kind);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
    async close() {
      for (const r of runners.splice(0)) await r.stop();
      await storage.close();
    },
  };
}

/** A gate jobs wait at until `open()` (or their runner stops). */
export function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const wait = (signal: AbortSignal) =>
    Promise.race([
      opened,
      new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    ]);
  return { wait, open: () => open() };
}
