/**
 * How a runner fills its free slots: which claims to make, in which order, with which limits.
 * `planClaims` and `narrowClaim` are pure; `fillSlots` runs a plan through the runner's claim.
 *
 * - User-facing work first: the user claim takes only jobs below `JOB_PRIORITY.background`.
 * - Background work (priority ≥ background) never takes the last `urgentSlots` slots, so a
 *   create during a backlog of ten thousand expiries finds a slot at once.
 * - Background work has a floor too: while fewer than `backgroundSlots` background jobs run,
 *   that many are claimed before user work, so constant user load cannot starve expiry,
 *   reaping and hooks. When none is due the user claim takes every free slot.
 * - With one slot there is nothing to keep: no urgent slot and no floor. User work is claimed
 *   first, background work runs when no user work is due, and a running job of either kind
 *   holds the slot until it finishes.
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
  backgroundSlots: number;
  kindConcurrency: Readonly<Record<KindPattern, number>>;
}

/** One claim of a fill: its filters and at most `limit` jobs. */
export interface PlannedClaim {
  limit: number;
  priority?: ClaimOptions['priority'];
  kinds?: ClaimOptions['kinds'];
  /** Part of the background floor: takes only what the floor still lacks. */
  floor?: boolean;
}

/** The claims of one fill, the most background jobs they may take together, and how many of those come first. */
export interface ClaimPlan {
  free: number;
  background: number;
  floor: number;
  claims: PlannedClaim[];
  /** Every kind of work has a claim here (none is out of room): all short means nothing more is due. */
  complete: boolean;
}

export const kindMatches = (kind: string, pattern: KindPattern): boolean =>
  pattern.endsWith('*') ? kind.startsWith(pattern.slice(0, -1)) : kind === pattern;

export const isBackground = (priority: number): boolean => priority >= JOB_PRIORITY.background;

/**
 * The slots a runner keeps: `urgent` ones background work never takes, and a `floor` of
 * background jobs user work leaves room for while they are due. Both 0 with one slot; with
 * more, each kind of work keeps at least one slot unless configured to 0.
 */
export function slotSplit(s: Pick<SlotSettings, 'concurrency' | 'urgentSlots' | 'backgroundSlots'>): {
  urgent: number;
  floor: number;
} {
  if (s.concurrency <= 1) return { urgent: 0, floor: 0 };
  const urgent = Math.min(Math.max(0, s.urgentSlots), s.concurrency - 1);
  const floor = Math.min(Math.max(0, s.backgroundSlots), s.concurrency - urgent, s.concurrency - 1);
  return { urgent, floor };
}

/** The claims that fill the free slots (none when no slot is free). */
export function planClaims(running: readonly RunningJob[], s: SlotSettings): ClaimPlan {
  const free = s.concurrency - running.length;
  if (free <= 0) return { free: 0, background: 0, floor: 0, claims: [], complete: false };
  const { urgent, floor } = slotSplit(s);
  const runningBackground = running.filter((j) => isBackground(j.priority)).length;
  const background = Math.max(0, s.concurrency - urgent - runningBackground);
  const capped = Object.keys(s.kindConcurrency);
  const room = (pattern: KindPattern) =>
    (s.kindConcurrency[pattern] ?? 0) - running.filter((j) => kindMatches(j.kind, pattern)).length;
  const bg = { atLeast: JOB_PRIORITY.background };
  const claims: PlannedClaim[] = [];
  const lacking = Math.min(free, background, Math.max(0, floor - runningBackground));
  if (lacking > 0) {
    claims.push({ limit: lacking, floor: true, priority: bg, kinds: { except: capped } });
    for (const pattern of capped) {
      const left = room(pattern);
      if (left > 0)
        claims.push({ limit: Math.min(left, lacking), floor: true, priority: bg, kinds: { only: pattern } });
    }
  }
  claims.push({ limit: free, priority: { below: JOB_PRIORITY.background }, kinds: { except: capped } });
  for (const pattern of capped) {
    const left = room(pattern);
    if (left > 0) claims.push({ limit: Math.min(left, free), kinds: { only: pattern } });
  }
  if (background > 0) {
    claims.push({ limit: Math.min(free, background), priority: bg, kinds: { except: capped } });
  }
  const complete = background > 0 && capped.every((pattern) => room(pattern) > 0);
  return { free, background, floor: lacking, claims, complete };
}

/**
 * `claim` narrowed by what the fill's earlier claims took: never past the free slots or a
 * capped kind's room, floor claims only up to the floor, and user work only once the
 * background budget is spent. Undefined: nothing left to take.
 */
export function narrowClaim(
  plan: ClaimPlan,
  claim: PlannedClaim,
  taken: readonly RunningJob[],
): PlannedClaim | undefined {
  const only = claim.kinds?.only;
  // A capped kind's claims share its room (the floor's claim and the plain one).
  const sameKind = only === undefined ? 0 : taken.filter((j) => kindMatches(j.kind, only)).length;
  const free = Math.min(plan.free - taken.length, claim.limit - sameKind);
  const takenBackground = taken.filter((j) => isBackground(j.priority)).length;
  const background = plan.background - takenBackground;
  const within = (limit: number, narrowed: PlannedClaim = claim) => (limit > 0 ? { ...narrowed, limit } : undefined);
  if (claim.floor) return within(Math.min(free, plan.floor - takenBackground));
  const userOnly = claim.priority?.below !== undefined && claim.priority.below <= JOB_PRIORITY.background;
  if (userOnly) return within(free);
  if (background > 0) return within(Math.min(free, background));
  if (claim.priority?.atLeast !== undefined) return undefined;
  return within(free, { ...claim, priority: { below: JOB_PRIORITY.background } });
}

const filterKey = (c: PlannedClaim) => JSON.stringify([c.priority ?? null, c.kinds ?? null]);

/**
 * Make the plan's claims in order, each narrowed by what the earlier ones took. A claim that
 * came back short drained its filter: a later claim with the same filter is not made.
 */
export async function fillSlots<J extends RunningJob>(
  plan: ClaimPlan,
  claim: (c: PlannedClaim) => Promise<J[]>,
): Promise<{ taken: J[]; drained: boolean }> {
  const taken: J[] = [];
  const drained = new Set<string>();
  // Whether every claim came back short: nothing more this runner may take is due now.
  let allShort = plan.complete;
  for (const planned of plan.claims) {
    const narrowed = narrowClaim(plan, planned, taken);
    if (narrowed && drained.has(filterKey(narrowed))) continue;
    if (!narrowed) {
      allShort = false; // no room left for this kind of work: some of it may be due
      continue;
    }
    const jobs = await claim(narrowed);
    taken.push(...jobs);
    if (jobs.length < narrowed.limit) drained.add(filterKey(narrowed));
    else allShort = false;
  }
  return { taken, drained: allShort };
}
