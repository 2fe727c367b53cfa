import type { Clock } from '../provisioner/provisioner.js';

/** A clock that only moves when told to; pass it to createSlipway for time-travel tests. */
export interface ManualClock extends Clock {
  advance(ms: number): Date;
  set(to: Date): void;
}

export function manualClock(start: Date = new Date('2030-01-01T00:00:00Z')): ManualClock {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
      return new Date(now);
    },
    set: (to) => {
      now = to.getTime();
    },
  };
}
