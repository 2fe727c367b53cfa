/**
 * Slots kept for each kind of work. Background work has a floor: under constant user load
 * expiry, reaping and hooks still run. With one slot nothing can be kept: user work goes
 * first and a running job of either kind holds the slot; with two, each kind keeps one.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JOB_PRIORITY, type JobRunner } from '../src/index.js';
import { planClaims, slotSplit } from '../src/jobs/job-slots.js';
import { testEngines } from '../src/testing/index.js';
import { gate, type RunnerHarness, runnerHarness } from './support/runner-harness.js';

const engines = await testEngines();
const WAIT = { timeout: 20_000, interval: 20 };

describe('slot split', () => {
  const split = (concurrency: number, urgentSlots = 1, backgroundSlots = 1) =>
    slotSplit({ concurrency, urgentSlots, backgroundSlots });

  it('keeps nothing with one slot, one slot for each kind of work with two or more', () => {
    expect(split(1)).toEqual({ urgent: 0, floor: 0 });
    expect(split(2)).toEqual({ urgent: 1, floor: 1 });
    expect(split(8)).toEqual({ urgent: 1, floor: 1 });
    // Neither kind can be configured out of every slot while the other is due.
    expect(split(2, 2, 2)).toEqual({ urgent: 1, floor: 1 });
    expect(split(4, 0, 9)).toEqual({ urgent: 0, floor: 3 });
    expect(split(4, 1, 0)).toEqual({ urgent: 1, floor: 0 });
  });

  it('claims the background floor before user work, and only what it lacks', () => {
    const settings = { concurrency: 4, urgentSlots: 1, backgroundSlots: 1, kindConcurrency: {} };
    const user = { kind: 'u', priority: JOB_PRIORITY.user };
    const bulk = { kind: 'b', priority: JOB_PRIORITY.background };
    expect(planClaims([user], settings).claims[0]).toMatchObject({ floor: true, limit: 1 });
    expect(planClaims([user, bulk], settings).claims[0]).toMatchObject({
      priority: { below: JOB_PRIORITY.background },
    });
    expect(planClaims([], { ...settings, concurrency: 1 }).claims[0]?.floor).toBeUndefined();
  });
});

describe.each(engines)('job runner floor on %s', (engine) => {
  let h: RunnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  const queued = async (kind: string) =>
    Number(
      (
        await h.storage.db
          .selectFrom('jobs')
          .select(sql<string>`count(*)`.as('n'))
          .where('kind', '=', kind)
          .where('state', '=', 'queued')
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** User work that never runs out: every user job enqueues the next one. */
  async function constantUserLoad(runner: JobRunner): Promise<{ ran: () => number }> {
    let ran = 0;
    await h.backlog('user', 20, JOB_PRIORITY.user);
    runner.register('user', {
      run: async () => {
        ran += 1;
        await h.enqueue('user', JOB_PRIORITY.user);
      },
    });
    return { ran: () => ran };
  }

  it('with user jobs always queued, background jobs still run', async () => {
    h = await runnerHarness(engine);
    const runner = h.runner({ concurrency: 4 });
    const load = await constantUserLoad(runner);
    let bulk = 0;
    runner.register('bulk', {
      run: async () => {
        bulk += 1;
      },
    });
    await h.backlog('bulk', 10);
    runner.start();
    await vi.waitFor(() => expect(bulk).toBe(10), WAIT);
    expect(load.ran()).toBeGreaterThan(0);
    expect(await queued('user')).toBeGreaterThan(0); // the user queue never emptied meanwhile
  });

  it('one slot: user work first, background work when none is due, a running job keeps the slot', async () => {
    h = await runnerHarness(engine);
    const runner = h.runner({ concurrency: 1 });
    const order: string[] = [];
    const first = gate();
    runner.register('bulk', {
      run: async (_job, signal) => {
        order.push('bulk');
        if (order.length === 1) await first.wait(signal);
      },
    });
    runner.register('user', { run: async () => void order.push('user') });
    await h.backlog('bulk', 3);
    runner.start();
    // No user work is due: the only slot takes background work (nothing is kept with one slot).
    await vi.waitFor(() => expect(order).toEqual(['bulk']), WAIT);
    await h.enqueue('user', JOB_PRIORITY.user);
    runner.wake();
    first.open();
    // The user job waited for the slot, then went before the rest of the backlog.
    await vi.waitFor(() => expect(order).toEqual(['bulk', 'user', 'bulk', 'bulk']), WAIT);
  });

  it('two slots: under constant load of both kinds, each kind keeps one slot', async () => {
    h = await runnerHarness(engine);
    const runner = h.runner({ concurrency: 2 });
    const load = await constantUserLoad(runner);
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
    await h.backlog('bulk', 20);
    runner.start();
    // Background work takes its one slot at once, and never the other: user work goes on in it.
    await vi.waitFor(() => expect(bulkRunning).toBe(1), WAIT);
    const before = load.ran();
    await vi.waitFor(() => expect(load.ran()).toBeGreaterThan(before + 10), WAIT);
    expect(bulkRunning).toBe(1);
    held.open();
    await vi.waitFor(async () => expect(await h.doneCount('bulk')).toBe(20), WAIT);
    expect(bulkMax).toBe(1);
    expect(await queued('user')).toBeGreaterThan(0);
  });
});
