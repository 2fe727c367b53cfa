/**
 * This replica's side of host placement: the hosts it serves right now (registered, and not
 * taken over by another replica) and the heartbeat settings. The job runner claims pinned
 * jobs of these hosts only; sweepers and flows ask `serves()` before calling a host-placed
 * provisioner for a resource.
 */

export interface HostSettings {
  /** How often a replica heartbeats each host it serves (ms). Default 5 s. */
  heartbeatMs: number;
  /** A host whose heartbeat is older than this is stale: its resources become UNKNOWN (ms). Default 30 s. */
  staleAfterMs: number;
  /**
   * How long `start()` waits for a host another replica holds to fall silent before it
   * refuses with HOST_IN_USE (ms). A replica restarted after a crash (kill -9, OOM) finds its
   * host held by its dead predecessor until the heartbeat is `staleAfterMs` old; a supervisor
   * restarting it at once would otherwise hit HOST_IN_USE. Default 0: refuse at once.
   */
  claimWaitMs: number;
}

export const DEFAULT_HOST_SETTINGS: HostSettings = { heartbeatMs: 5_000, staleAfterMs: 30_000, claimWaitMs: 0 };

export class LocalHosts {
  readonly replicaId: string;
  readonly settings: HostSettings;
  readonly #served = new Set<string>();

  constructor(replicaId: string, settings: Partial<HostSettings> = {}) {
    this.replicaId = replicaId;
    this.settings = { ...DEFAULT_HOST_SETTINGS, ...settings };
    if (this.settings.staleAfterMs <= this.settings.heartbeatMs) {
      throw new RangeError('hosts.staleAfterMs must be longer than hosts.heartbeatMs');
    }
  }

  /** Whether this replica may act for a resource on `host` (null: not host-placed, any replica may). */
  serves(host: string | null): boolean {
    return host === null || this.#served.has(host);
  }

  names(): string[] {
    return [...this.#served];
  }

  add(name: string): void {
    this.#served.add(name);
  }

  delete(name: string): void {
    this.#served.delete(name);
  }

  /** Heartbeats before this instant are stale. */
  staleBefore(now: Date): Date {
    return new Date(now.getTime() - this.settings.staleAfterMs);
  }
}
