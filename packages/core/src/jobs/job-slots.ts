/**
 * How a runner fills its free slots: which claims to make, in which order, with which limits.
 * Pure: the runner passes what it runs now and claims in the returned order, each claim's
 * limit lowered by what the earlier ones took.
 *
 * - User-facing work first: the first claim takes only jobs below `JOB_PRIORITY.background`.
 * - Background work (priority ≥ background) never takes the last `urgentSlots` slots, so a
 *   create during a backlog of ten thousand expiries finds a slot at once.
 * - A kind with a cap (`kindConcurrency`) is claimed on its own, up to its room; the other
 *   claims leave it out. Patterns ending in `*` cap every kind with that prefix; they should
 *   not overlap.
 */
import type { ClaimOptions, KindPattern } from './job-claim.js';
import { JOB_PRIORITY } from './job-queue.js';

export interface RunningJob {
  kind: string;
  priority: number;
}

export interface SlotSettings {
  concurrency: number;
  urgentSlots: number;
  kindConcurrency: Readonly<Record<KindPattern, number>>;
}

/** One claim of a fill: its filters and at most `limit` jobs. */
export interface PlannedClaim {
  limit: number;
  priority?: ClaimOptions['priority'];
  kinds?: ClaimOptions['kinds'];
}

/** The claims of one fill, and the most background jobs they may take together. */
export interface ClaimPlan {
  free: number;
  background: number;
  claims: PlannedClaim[];
}

export const kindMatches = (kind: string, pattern: KindPattern): boolean =>
  pattern.endsWith('*') ? kind.startsWith(pattern.slice(0, -1)) : kind === pattern;

export const isBackground = (priority: number): boolean => priority >= JOB_PRIORITY.background;

/** The claims that fill the free slots (none when no slot is free). */
export function planClaims(running: readonly RunningJob[], s: SlotSettings): ClaimPlan {
  const free = s.concurrency - running.length;
  if (free <= 0) return { free: 0, background: 0, claims: [] };
  const urgent = Math.min(s.urgentSlots, s.concurrency - 1);
  const background = Math.max(0, s.concurrency - urgent - running.filter((j) => isBackground(j.priority)).length);
  const capped = Object.keys(s.kindConcurrency);
  const claims: PlannedClaim[] = [
    { limit: free, priority: { below: JOB_PRIORITY.background }, kinds: { except: capped } },
  ];
  for (const pattern of capped) {
    const room = (s.kindConcurrency[pattern] ?? 0) - running.filter((j) => kindMatches(j.kind, pattern)).length;
    if (room > 0) claims.push({ limit: Math.min(room, free), kinds: { only: pattern } });
  }
  if (background > 0) {
    claims.push({
      limit: Math.min(free, background),
      priority: { atLeast: JOB_PRIORITY.background },
      kinds: { except: capped },
    });
  }
  return { free, background, claims };
}

/**
 * `claim` narrowed by what the fill's earlier claims took: never past the free slots, and
 * user work only once the background budget is spent. Undefined: nothing left to take.
 */
export function narrowClaim(
  plan: ClaimPlan,
  claim: PlannedClaim,
  taken: readonly RunningJob[],
): PlannedClaim | undefined {
  const free = plan.free - taken.length;
  const background = plan.background - taken.filter((j) => isBackground(j.priority)).length;
  const userOnly = claim.priority?.below !== undefined && claim.priority.below <= JOB_PRIORITY.background;
  if (userOnly) return free > 0 ? { ...claim, limit: Math.min(claim.limit, free) } : undefined;
  if (background > 0) {
    const limit = Math.min(claim.limit, free, background);
    return limit > 0 ? { ...claim, limit } : undefined;
  }
  if (claim.priority?.atLeast !== undefined) return undefined;
  const limit = Math.min(claim.limit, free);
  return limit > 0 ? { ...claim, limit, priority: { below: JOB_PRIORITY.background } } : undefined;
}
