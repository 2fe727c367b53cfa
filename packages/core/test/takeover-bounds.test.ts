/**
 * Takeovers use up no attempt (issue 10), but they must stay bounded (review 5 regressions):
 * a poison job that kills every runner taking it (out of memory, a native crash) was taken
 * over for good, crash-looping the whole fleet and, for a resize, holding its credits forever;
 * and a runner whose own lease lapsed (a blocked event loop) took its own job over and ran it
 * twice at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueJob, type Job, JobRunner, silentLogger } from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';

const engines = await testEngines();
const LEASE_MS = 30_000;

describe.each(engines)('bounded takeovers on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  const runners: JobRunner[] = [];

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await storage.close();
  });

  /** A runner whose `poison` handler never returns until aborted: a runner that died on the job. */
  function runner(calls: { runs: number; dead: number }): JobRunner {
    const r = new JobRunner({ db: storage.db, clock, logger: silentLogger, leaseMs: LEASE_MS });
    r.register('poison', {
      run: (_job: Job, signal: AbortSignal) => {
        calls.runs += 1;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      onDead: async () => {
        calls.dead += 1;
      },
    });
    runners.push(r);
    return r;
  }

  const job = () => storage.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();

  it('a job that kills every runner taking it ends dead (onDead runs) instead of being taken over forever', async () => {
    storage = await createTestStorage(engine);
    clock = manualClock();
    await enqueueJob(storage.db, clock.now(), { kind: 'poison', payload: {}, maxAttempts: 2 });
    const calls = { runs: 0, dead: 0 };
    for (let i = 0; i < 60; i++) {
      if ((await job()).state !== 'running' && (await job()).state !== 'queued') break;
      void runner(calls).runDue(); // takes the job and "dies" in it
      for (let w = 0; w < 200 && (await job()).updated_at.getTime() !== clock.now().getTime(); w++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      clock.advance(LEASE_MS + 1_000);
    }
    const last = await job();
    expect(last.state).toBe('dead');
    expect(calls.dead).toBe(1);
    expect(last.last_error).toMatch(/lease/);
    expect(calls.runs).toBeLessThan(60);
  });

  it('a runner whose own lease lapsed does not take its own running job again', async () => {
    storage = await createTestStorage(engine);
    clock = manualClock();
    await enqueueJob(storage.db, clock.now(), { kind: 'poison', payload: {} });
    const calls = { runs: 0, dead: 0 };
    const slow = runner(calls);
    void slow.runDue();
    for (let w = 0; w < 200 && calls.runs === 0; w++) await new Promise((r) => setTimeout(r, 5));
    expect(calls.runs).toBe(1);
    clock.advance(LEASE_MS + 1_000); // its heartbeat did not get through in time
    void slow.runDue();
    await new Promise((r) => setTimeout(r, 100));
    expect(calls.runs).toBe(1); // still one execution of the job
    // Another runner may take it over: the job is not this runner's to keep while its lease is out.
    const other = runner(calls);
    void other.runDue();
    for (let w = 0; w < 200 && calls.runs === 1; w++) await new Promise((r) => setTimeout(r, 5));
    expect((await job()).locked_by).toBe(other.workerId);
  });
});
