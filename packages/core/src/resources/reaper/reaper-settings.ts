/** How the orphan reaper runs: how often, how long an orphan is left alone, how often a failing sweep retries. */

export interface ReaperSettings {
  /** Schedule sweeps at all. Off: no inventory is listed, nothing is released or marked GONE. Default true. */
  enabled: boolean;
  /** How often each provisioner with `inventory` (each host, for host-placed ones) is swept (ms). Default 5 min. */
  intervalMs: number;
  /**
   * How long a machine must stay an orphan, sweep after sweep, before it is released (ms).
   * Covers a provider's listing lagging behind a release, and a machine still being tagged.
   * Default 10 min.
   */
  graceMs: number;
  /** Attempts of a sweep whose inventory fails (backoff between them) before it waits for the next interval. Default 3. */
  attempts: number;
}

export const DEFAULT_REAPER_SETTINGS: ReaperSettings = {
  enabled: true,
  intervalMs: 5 * 60_000,
  graceMs: 10 * 60_000,
  attempts: 3,
};

/** What one sweep is about: a provisioner, and the host of a host-placed one (whose inventory is that host's). */
export interface ReaperScope {
  readonly provisioner: string;
  readonly host: string | null;
}

/** The last sweep of one scope, as the admin query shows it. */
export interface OrphanSweep {
  provisioner: string;
  /** The host swept (host-placed provisioners), else null. */
  host: string | null;
  startedAt: Date;
  /** Null while it runs, or when its runner died. */
  finishedAt: Date | null;
  /** Items the provider listed. */
  listed: number;
  /** Items with no live resource behind them (in their grace period or released now). */
  orphansSeen: number;
  /** Orphans released at the provider. */
  released: number;
  /** Resources whose machine was gone at the provider, marked GONE. */
  markedGone: number;
  /** Why the sweep failed, or which releases failed; null when all went well. */
  error: string | null;
}
