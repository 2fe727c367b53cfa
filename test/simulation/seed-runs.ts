/**
 * The seed runs, split over two test files so vitest's two workers share them:
 * shard i of n takes every n-th seed. `SIM_SEED` (one seed or a comma-separated list)
 * replaces the default seeds, `SIM_OPS` the operations per seed, `SIM_PROFILE=storm` the
 * default fault rates and operation mix with harsher ones.
 *
 *   SIM_SEED=<n> SIM_OPS=<ops> npx vitest run test/simulation
 */
import { describe, expect, it } from 'vitest';
import { PROFILES, type Profile, runSimulation } from './simulator.js';

export const DEFAULT_SEEDS = [1, 2, 3, 4];
export const DEFAULT_OPS = 500;

export function seedsFromEnv(): number[] {
  const raw = process.env.SIM_SEED?.trim();
  if (!raw) return DEFAULT_SEEDS;
  const seeds = raw.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) throw new Error(`SIM_SEED must be integers, got ${raw}`);
  return seeds;
}

export function opsFromEnv(): number {
  const raw = process.env.SIM_OPS?.trim();
  const ops = raw ? Number(raw) : DEFAULT_OPS;
  if (!Number.isSafeInteger(ops) || ops < 1) throw new Error(`SIM_OPS must be a positive integer, got ${raw}`);
  return ops;
}

export function profileFromEnv(): Profile {
  const raw = process.env.SIM_PROFILE?.trim() || 'default';
  if (!(raw in PROFILES)) throw new Error(`SIM_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}, got ${raw}`);
  return raw as Profile;
}

/** Per-test time-out: a run is mostly PGlite round trips; be generous on a loaded machine. */
export const timeoutFor = (ops: number): number => 60_000 + ops * 150;

/** Faults every run of the default length is expected to have injected at least once. */
const MUST_FIRE = ['allocate.partialTimeout', 'allocate.duplicate', 'release.lostRetryable'];

export function describeSeedRuns(shard: number, shards: number): void {
  const ops = opsFromEnv();
  const profile = profileFromEnv();
  const seeds = seedsFromEnv().filter((_, i) => i % shards === shard);
  describe(`deterministic simulation (shard ${shard + 1}/${shards})`, () => {
    // SIM_SEED picked only seeds of the other shard: this shard checks the selection is not empty.
    if (seeds.length === 0)
      it('runs its seeds in the other shard', () => expect(seedsFromEnv().length).toBeGreaterThan(0));
    for (const seed of seeds) {
      it(
        `seed ${seed}${profile === 'default' ? '' : ` (${profile})`}: ${ops} random operations keep every invariant, then quiesce without leaks`,
        async () => {
          const result = await runSimulation({ seed, ops, profile });
          console.info(`[simulation] ${result.summary}`);
          if (ops >= DEFAULT_OPS) {
            for (const fault of MUST_FIRE) {
              expect(result.stats[fault] ?? 0, `fault ${fault} never fired for seed ${seed}`).toBeGreaterThan(0);
            }
          }
        },
        timeoutFor(ops),
      );
    }
  });
}
