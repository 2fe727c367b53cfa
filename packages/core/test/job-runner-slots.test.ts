/**
 * The job runner at the database's speed: a finished job refills its slot at once (no
 * `pollMs` wait), user-facing work is claimed before bulk background work and always finds a
 * slot, and a kind with a cap never runs more at once than its cap.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enqueueJob, JOB_PRIORITY, type JobRunner, type JobRunnerOptions } from '../src/index.js';
import { testEngines } from '../src/testing/index.js';
import { gate, type RunnerHarness, runnerHarness } from './support/runner-harness.js';

const engines = await testEngines();

describe.each(engines)('job runner slots on %s', (engine) => {
  let h: RunnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  async function setup(options: Partial<JobRunnerOptions> = {}): Promise<JobRunner> {
    h = await runnerHarness(engine);
    return h.runner(options);
  }
  const enqueue = (kind: string, priority?: number) => h.enqueue(kind, priority);
  const backlog = (kind: string, n: number) => h.backlog(kind, n);
  const doneCount = () => h.doneCount();

  it('a finished job refills its slot at once: 40 jobs on 2 slots finish with no poll', async () => {
    const runner = await setup({ concurrency: 2, urgentSlots: 0 });
    let ran = 0;
    runner.register('short', {
      run: async () => {
        ran += 1;
      },
    });
    for (let i = 0; i < 40; i += 1) await enqueue('short');
    runner.start();
    await vi.waitFor(async () => expect(await doneCount()).toBe(40), { timeout: 20_000, interval: 50 });
    expect(ran).toBe(40);
  });

  it('a user job enqueued behind 1000 background ones is claimed first', async () => {
    const runner = await setup({ concurrency: 1 });
    const order: string[] = [];
    runner.register('bulk', { run: async () => void order.push('bulk') });
    runner.register('user', { run: async () => void order.push('user') });
    await backlog('bulk', 1000);
    await enqueue('user', JOB_PRIORITY.user);
    runner.start();
    await vi.waitFor(() => expect(order.length).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 20 });
    expect(order[0]).toBe('user');
  });

  it('background work never takes the urgent slot: a user job starts while every other slot is busy', async () => {
    const runner = await setup({ concurrency: 3, urgentSlots: 1 });
    const held = gate();
    let bulkRunning = 0;
    let bulkMax = 0;
    runner.register('bulk', {
      run: async (_job, signal) => {
        bulkRunning += 1;
        bulkMax = Math.max(bulkMax, bulkRunning);
        await held.wait(signal);
        bulkRunning -= 1;
      },
    });
    let userRan = false;
    runner.register('user', {
      run: async () => {
        userRan = true;
      },
    });
    await backlog('bulk', 50);
    runner.start();
    await vi.waitFor(() => expect(bulkRunning).toBe(2), { timeout: 20_000, interval: 20 });
    await enqueue('user', JOB_PRIORITY.user);
    runner.wake(); // what a NOTIFY does
    await vi.waitFor(() => expect(userRan).toBe(true), { timeout: 20_000, interval: 20 });
    expect(bulkRunning).toBe(2);
    held.open();
    await vi.waitFor(async () => expect(await doneCount()).toBe(51), { timeout: 20_000, interval: 50 });
    expect(bulkMax).toBe(2);
  });

  it('a capped kind runs at most its cap at once; other kinds use the remaining slots', async () => {
    const runner = await setup({ concurrency: 6, urgentSlots: 0, kindConcurrency: { 'hook:*': 2 } });
    const held = gate();
    let hooks = 0;
    let hooksMax = 0;
    runner.register('hook:*', {
      run: async (_job, signal) => {
        hooks += 1;
        hooksMax = Math.max(hooksMax, hooks);
        await held.wait(signal);
        hooks -= 1;
      },
    });
    let others = 0;
    runner.register('other', {
      run: async () => {
        others += 1;
      },
    });
    for (let i = 0; i < 10; i += 1) await enqueue(`hook:${i % 3}`);
    for (let i = 0; i < 10; i += 1) await enqueue('other');
    runner.start();
    // The hooks hold two slots (never more); the other ten run through the rest meanwhile.
    await vi.waitFor(() => expect({ others, hooks }).toEqual({ others: 10, hooks: 2 }), {
      timeout: 20_000,
      interval: 20,
    });
    held.open();
    await vi.waitFor(async () => expect(await doneCount()).toBe(20), { timeout: 20_000, interval: 50 });
    expect(hooksMax).toBe(2);
  });

  it('runNow takes a background job out of turn', async () => {
    const runner = await setup({ concurrency: 1 });
    const ran: string[] = [];
    runner.register('bulk', { run: async () => void ran.push('bulk') });
    const id = await enqueueJob(h.storage.db, new Date(), {
      kind: 'bulk',
      payload: {},
      priority: JOB_PRIORITY.background,
    });
    expect(await runner.runNow(id ?? -1)).toBe(true);
    expect(ran).toEqual(['bulk']);
  });
});
