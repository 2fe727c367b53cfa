/**
 * How the job runner's loop sleeps and wakes: up to `pollMs`, or sooner when woken (a NOTIFY,
 * a freed slot, a retry falling due). A wake while the loop is busy is kept, so the next sleep
 * returns at once and nothing that arrived mid-claim is missed.
 */
export class LoopAlarm {
  readonly #pollMs: number;
  #woken = false;
  #ring: (() => void) | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(pollMs: number) {
    this.#pollMs = pollMs;
  }

  /** At the top of each round: a wake from here on is kept for the next sleep. */
  arm(): void {
    this.#woken = false;
  }

  wake(): void {
    this.#woken = true;
    this.#ring?.();
  }

  /** Wake in `delayMs` (a retry falling due: nothing announces it). The timer never keeps the process alive. */
  wakeIn(delayMs: number): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        this.wake();
      },
      Math.min(Math.max(0, delayMs), 2 ** 31 - 1),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  /** Until woken, or `pollMs`; at once when a wake came since `arm`. */
  async sleep(): Promise<void> {
    if (this.#woken) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#pollMs);
      this.#ring = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#ring = undefined;
  }

  /** Drop the pending timed wakes (the runner is stopping). */
  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
