/**
 * A drained runner sleeps until a NOTIFY or pollMs (job-runner.ts): work that falls due
 * without an enqueue must still wake it. Here pollMs is an hour, so only a wake-up can run it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enqueueJob, JOBS_CHANNEL, JobRunner, silentLogger, systemClock } from '../src/index.js';
import { enqueueClaimedJob } from '../src/jobs/job-queue.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const HOUR = 3_600_000;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(engines)('runner wake-ups on %s', (engine) => {
  let storage: TestStorage;
  const runners: JobRunner[] = [];
  const unlisten: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    for (const u of unlisten.splice(0)) await u();
    await storage?.close();
  });

  async function runner(extra: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}) {
    const r = new JobRunner({ db: storage.db, clock: systemClock, logger: silentLogger, pollMs: HOUR, ...extra });
    r.register('quick', { run: async () => {} });
    runners.push(r);
    unlisten.push(await storage.listen(JOBS_CHANNEL, () => r.wake()));
    return r;
  }

  /** A request's own job: enqueued claimed by `r`, adopted, succeeds (and wakes no claim). */
  async function requestJob(r: JobRunner) {
    const now = new Date();
    const claim = r.claimFor(now);
    if (!claim) throw new Error('stopping');
    const job = await enqueueClaimedJob(storage.db, now, { kind: 'quick', payload: {} }, claim);
    if (!job) throw new Error('not enqueued');
    await r.adopt(job);
  }

  const stateOf = async (id: number) =>
    (await storage.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;

  it('a retry runs when its backoff ends, though nothing announces it', async () => {
    storage = await createTestStorage(engine);
    const r = await runner({ backoff: { baseMs: 40, maxMs: 40 } });
    let calls = 0;
    r.register('flaky', {
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
      },
    });
    r.start();
    await requestJob(r); // a create's job ends: the runner is drained, and sleeps for an hour
    const id = (await enqueueJob(storage.db, new Date(), { kind: 'flaky', payload: {} })) ?? 0;
    // The first run fails and is re-queued 40 ms later; no NOTIFY announces that.
    await vi.waitFor(async () => expect(await stateOf(id)).toBe('done'), { timeout: 2_000 });
    expect(calls).toBe(2);
  });

  it('a job handed back by a stopping replica is taken by another at once', async () => {
    storage = await createTestStorage(engine);
    const a = await runner();
    const b = await runner();
    let started = false;
    b.register('slow', {
      run: (_job, signal) =>
        new Promise((_, reject) => {
          started = true;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    a.register('slow', { run: async () => {} });
    const id = (await enqueueJob(storage.db, new Date(), { kind: 'slow', payload: {} })) ?? 0;
    b.start();
    await vi.waitFor(() => expect(started).toBe(true));
    a.start();
    await pause(100); // a's first fill found nothing due (b holds the job)
    await requestJob(a); // drained: a sleeps until a NOTIFY
    await b.stop(); // rolling deploy: the job goes back to the queue, with a NOTIFY
    await vi.waitFor(async () => expect(await stateOf(id)).toBe('done'), { timeout: 2_000 });
  });
});
