/**
 * The simulation's own guarantees: a seed replays exactly (same outcome digest twice), and
 * the invariant checker really fails when an invariant is broken.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { checkQuiesced, checkStep, InvariantViolation } from './invariants.js';
import { seedsFromEnv, timeoutFor } from './seed-runs.js';
import { runSimulation, Simulation, SimulationFailure } from './simulator.js';

const REPLAY_OPS = 250;

describe('deterministic simulation replays', () => {
  it(
    'two runs of the same seed produce the same outcome digest; another seed does not',
    async () => {
      const seed = seedsFromEnv()[0] ?? 1;
      const a = await runSimulation({ seed, ops: REPLAY_OPS });
      const b = await runSimulation({ seed, ops: REPLAY_OPS });
      const firstDiff = a.history.findIndex((line, i) => b.history[i] !== line);
      expect(
        firstDiff,
        `seed ${seed} diverged at history line ${firstDiff}:\n  ${a.history[firstDiff]}\n  ${b.history[firstDiff]}`,
      ).toBe(-1);
      expect(b.history).toHaveLength(a.history.length);
      expect(b.digest).toBe(a.digest);
      const other = await runSimulation({ seed: seed + 1, ops: 40 });
      expect(other.digest, 'a different seed should take a different path').not.toBe(a.digest);
    },
    timeoutFor(3 * REPLAY_OPS),
  );
});

describe('the simulation checker can fail', () => {
  async function withSim(steps: number, fn: (sim: Simulation) => Promise<void>): Promise<void> {
    const sim = new Simulation(7, steps);
    try {
      await sim.run();
      await fn(sim);
    } finally {
      await sim.close();
    }
  }

  it('catches a ledger entry that the wallet does not know about', async () => {
    await withSim(60, async (sim) => {
      await expect(checkStep(sim.ctx)).resolves.toBeDefined();
      await sim.storage.db
        .insertInto('ledger_entries')
        .values({
          account_id: 'u1',
          amount: 5,
          kind: 'grant',
          reservation_id: null,
          resource_id: null,
          actor_id: 'sim',
          note: 'bogus',
          created_at: sim.clock.now(),
        })
        .execute();
      const error = await checkStep(sim.ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvariantViolation);
      expect(String(error)).toMatch(/u1: wallet balance \d+ != Σ ledger/);
      expect(String(error)).toMatch(/u1: ledger grants \d+ != grants the sim made/);
    });
  });

  it('catches a hold that no wallet counts and a leaked machine', async () => {
    await withSim(60, async (sim) => {
      await checkQuiesced(sim.ctx);
      await sql`update wallets set held = held + 7 where account_id = 'u2'`.execute(sim.storage.db);
      await expect(checkStep(sim.ctx)).rejects.toThrow(/u2: wallet held \d+ != Σ pending holds/);
      await sql`update wallets set held = held - 7 where account_id = 'u2'`.execute(sim.storage.db);

      const dead = await sim.storage.db
        .selectFrom('resources')
        .select('id')
        .where('status', 'in', ['FAILED', 'RELEASED', 'EXPIRED'])
        .orderBy('created_at')
        .executeTakeFirst();
      expect(dead, 'seed 7 should have a finished resource after 60 steps').toBeDefined();
      sim.provider.build(dead?.id ?? '');
      await expect(checkQuiesced(sim.ctx)).rejects.toThrow(/\[leak\] machine vm-/);
    });
  });

  it('accepts a pending resize hold and a refund, and catches a resize hold no resource names', async () => {
    await withSim(60, async (sim) => {
      const db = sim.storage.db;
      const live = await db
        .selectFrom('resources')
        .select(['id', 'owner_id', 'cost'])
        .where('status', '=', 'RUNNING')
        .where('cost', '>', 1)
        .orderBy('created_at')
        .executeTakeFirst();
      if (!live) throw new Error('seed 7 should have a charged RUNNING resource after 60 steps');
      const hold = randomUUID();
      // A smaller resize applied (a refund of 1), then a bigger one pending (a resize hold of 1).
      await db.transaction().execute(async (trx) => {
        const ledger = sim.slipway.ledger;
        await ledger.refund(trx, { accountId: live.owner_id, amount: 1, resourceId: live.id, actorId: null });
        await ledger.reserve(trx, {
          reservationId: hold,
          accountId: live.owner_id,
          amount: 1,
          expiresAt: new Date(sim.clock.now().getTime() + 86_400_000),
          resourceId: live.id,
          purpose: 'resize',
        });
        await trx
          .updateTable('resources')
          .set({ cost: live.cost - 1, resize_reservation_id: hold })
          .where('id', '=', live.id)
          .execute();
      });
      await checkQuiesced(sim.ctx);
      await db.updateTable('resources').set({ resize_reservation_id: null }).where('id', '=', live.id).execute();
      await expect(checkStep(sim.ctx)).rejects.toThrow(/\[resize\] hold [0-9a-f-]+ is pending for no resource/);
    });
  });

  it('reports a failure with the seed, the step and how to replay it', async () => {
    const sim = new Simulation(11, 5);
    sim.step = 3;
    sim.history.push('#1 advance 5 ms', '#2 runJobs ran 0');
    const failure = sim.failure('[credits] u1: something broke');
    expect(failure).toBeInstanceOf(SimulationFailure);
    expect(failure.message).toContain('seed=11 step=3/5');
    expect(failure.message).toContain('SIM_SEED=11 SIM_OPS=5 npx vitest run test/simulation');
    expect(failure.message).toContain('#2 runJobs ran 0');
  });
});
