/**
 * Hosts of host-placed provisioners: a replica running such a provisioner registers its host
 * (name, capacity) on `start()`, heartbeats it, and lets go of it on stop; any replica's
 * sweep marks a silent host stale; admins list them. See docs/hosts.md.
 */
import type { Kysely } from 'kysely';
import { type Actor, isAdmin } from '../domain.js';
import { errorMessage, SlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { EventService } from '../events/event-service.js';
import type { HostDescriptor } from '../provisioner/capabilities.js';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { sleep } from '../util/abort.js';
import {
  capacityOf,
  claimHost,
  type HostCapacity,
  type HostUsage,
  heartbeatHost,
  hostUsage,
  NO_USAGE,
  stopHost,
} from './host-repository.js';
import { restoreHostResources, sweepStaleHosts } from './host-staleness.js';
import type { LocalHosts } from './local-hosts.js';

export interface HostServiceDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  events: EventLog;
  eventService: EventService;
  clock: Clock;
  logger: Logger;
  local: LocalHosts;
}

/** A host as admins see it. */
export interface HostInfo {
  name: string;
  provisioner: string;
  capacity: HostCapacity;
  /** What its live resources take (their specs), and how many there are. */
  used: HostUsage;
  replicaId: string;
  startedAt: Date;
  heartbeatAt: Date;
  /** UP: heartbeating; STOPPED: its replica stopped cleanly, not stale yet; STALE: silent past `staleAfterMs`. */
  state: 'UP' | 'STOPPED' | 'STALE';
}

export class HostService {
  readonly #d: HostServiceDeps;
  readonly #restoring = new Map<string, Promise<number>>();
  #timer: NodeJS.Timeout | undefined;
  /** The heartbeat the timer started and that has not finished. */
  #beat: Promise<void> | undefined;
  /** Set first thing by `stopHeartbeats()`: from then on no host is claimed (again). */
  #stopping = false;

  constructor(deps: HostServiceDeps) {
    this.#d = deps;
  }

  /** The hosts of this replica's host-placed provisioners, with the provisioner of each. */
  descriptors(): { provisioner: string; host: HostDescriptor }[] {
    return this.#d.registry.list().flatMap((runtime) => {
      const host = runtime.host();
      return host ? [{ provisioner: runtime.name, host }] : [];
    });
  }

  /**
   * Register every host of this replica (HOST_IN_USE when another live replica holds one of
   * the names: then none stays registered), then restore their UNKNOWN resources in the
   * background. CONFIG_INVALID when two of this replica's provisioners name the same host.
   */
  async register(): Promise<string[]> {
    const { local } = this.#d;
    const descriptors = this.descriptors();
    refuseSharedHostNames(descriptors);
    this.#stopping = false;
    const claimed: string[] = [];
    for (const { provisioner, host } of descriptors) {
      if (!(await this.#claimWaiting(provisioner, host))) {
        for (const name of claimed) await this.#release(name);
        throw new SlipwayError('HOST_IN_USE', `host ${host.name} is served by another live replica`, {
          details: { host: host.name, provisioner },
        });
      }
      claimed.push(host.name);
    }
    for (const name of claimed) void this.restore(name);
    return local.names();
  }

  /** Register, then heartbeat every `heartbeatMs` until `stop()`. */
  async start(): Promise<void> {
    await this.register();
    if (this.#timer || this.descriptors().length === 0) return;
    const every = this.#d.local.settings.heartbeatMs;
    const tick = () => {
      this.#beat = this.heartbeat()
        .catch((error: unknown) => this.#d.logger.warn('host heartbeat failed', { error: errorMessage(error) }))
        .finally(() => {
          this.#beat = undefined;
          if (this.#timer && !this.#stopping) this.#timer = setTimeout(tick, every);
        });
    };
    this.#timer = setTimeout(tick, every);
  }

  /**
   * One heartbeat of every host this replica registered. A host whose row is no longer ours
   * and up (marked stale while this replica was silent) is claimed again and its resources
   * restored, unless this replica is stopping; one another replica took over meanwhile is
   * dropped (its jobs are not ours).
   */
  async heartbeat(): Promise<void> {
    const { db, clock, local, logger } = this.#d;
    for (const { provisioner, host } of this.descriptors()) {
      if (this.#stopping) return;
      if (!local.serves(host.name)) continue; // never registered here, or taken over
      if (await heartbeatHost(db, host.name, local.replicaId, clock.now())) {
        if (await this.#hasUnknown(host.name)) void this.restore(host.name);
        continue;
      }
      // Stopping: stop() let go of the host (or is about to); claiming it back would pose as a live host.
      if (this.#stopping) return;
      if (await this.#claim(provisioner, host)) {
        void this.restore(host.name);
        continue;
      }
      logger.error('host taken over by another replica; no longer serving it', { host: host.name });
      local.delete(host.name);
    }
  }

  /**
   * Stop heartbeating: no further tick, the one in flight awaited, and no host claimed again
   * from now on. The hosts stay registered (their jobs may still be finishing); `stop()` lets go.
   */
  async stopHeartbeats(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#beat;
  }

  /** Stop heartbeating and let go of this replica's hosts (their rows stay). */
  async stop(): Promise<void> {
    await this.stopHeartbeats();
    await Promise.allSettled(this.#restoring.values());
    for (const name of this.#d.local.names()) await this.#release(name);
  }

  /** Mark hosts silent past `staleAfterMs` stale, their live resources UNKNOWN; returns how many hosts. */
  sweepStale(): Promise<number> {
    return sweepStaleHosts(this.#d, this.#d.local.staleBefore(this.#d.clock.now()));
  }

  /** Restore the UNKNOWN resources of a host this replica serves (one run per host at a time). */
  restore(host: string): Promise<number> {
    if (!this.#d.local.serves(host)) return Promise.resolve(0);
    const running = this.#restoring.get(host);
    if (running) return running;
    const run = restoreHostResources({ ...this.#d, replicaId: this.#d.local.replicaId }, host)
      .catch((error: unknown) => {
        this.#d.logger.warn('host restore failed', { host, error: errorMessage(error) });
        return 0;
      })
      .finally(() => this.#restoring.delete(host));
    this.#restoring.set(host, run);
    return run;
  }

  /** Every host, with what it holds and whether it is live. Admins only (FORBIDDEN otherwise). */
  async list(actor: Actor): Promise<HostInfo[]> {
    if (!isAdmin(actor)) throw new SlipwayError('FORBIDDEN', 'only admins list hosts');
    const { db, clock, local } = this.#d;
    const rows = await db.selectFrom('hosts').selectAll().orderBy('name').execute();
    const usage = await hostUsage(
      db,
      rows.map((r) => r.name),
    );
    const staleBefore = local.staleBefore(clock.now());
    return rows.map((r) => ({
      name: r.name,
      provisioner: r.provisioner,
      capacity: capacityOf(r),
      used: usage.get(r.name) ?? NO_USAGE,
      replicaId: r.replica_id,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      state: r.state === 'stale' || r.heartbeat_at < staleBefore ? 'STALE' : r.state === 'stopped' ? 'STOPPED' : 'UP',
    }));
  }

  /** Claim, retrying every heartbeat for up to `claimWaitMs` while another replica holds the host. */
  async #claimWaiting(provisioner: string, host: HostDescriptor): Promise<boolean> {
    const { heartbeatMs, claimWaitMs } = this.#d.local.settings;
    const deadline = Date.now() + claimWaitMs;
    for (let waited = false; ; waited = true) {
      if (await this.#claim(provisioner, host)) return true;
      if (this.#stopping || Date.now() >= deadline) return false;
      if (!waited) {
        this.#d.logger.warn('host is held by another replica; waiting for it to fall silent', {
          host: host.name,
          waitMs: claimWaitMs,
        });
      }
      await sleep(Math.min(heartbeatMs, Math.max(1, deadline - Date.now())));
    }
  }

  async #claim(provisioner: string, host: HostDescriptor): Promise<boolean> {
    if (this.#stopping) return false;
    const { db, clock, local, events } = this.#d;
    const now = clock.now();
    const claimed = await db.transaction().execute(async (trx) => {
      const row = await claimHost(trx, {
        host,
        provisioner,
        replicaId: local.replicaId,
        now,
        staleBefore: local.staleBefore(now),
      });
      if (!row) return false;
      await events.append(trx, {
        type: 'system',
        action: 'host.up',
        data: { host: host.name, provisioner, replicaId: local.replicaId, capacity: host.capacity },
      });
      return true;
    });
    if (claimed) local.add(host.name);
    return claimed;
  }

  async #release(name: string): Promise<void> {
    const { db, local, logger } = this.#d;
    local.delete(name);
    await stopHost(db, name, local.replicaId).catch((error: unknown) =>
      logger.warn('could not mark host stopped', { host: name, error: errorMessage(error) }),
    );
  }

  async #hasUnknown(host: string): Promise<boolean> {
    const row = await this.#d.db
      .selectFrom('resources')
      .select('id')
      .where('host', '=', host)
      .where('status', '=', 'UNKNOWN')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** Two host-placed provisioners of one replica naming one host would claim it twice, as one. */
function refuseSharedHostNames(descriptors: readonly { provisioner: string; host: HostDescriptor }[]): void {
  const byName = new Map<string, string>();
  for (const { provisioner, host } of descriptors) {
    const other = byName.get(host.name);
    if (other !== undefined) {
      throw new SlipwayError(
        'CONFIG_INVALID',
        `host: provisioners ${other} and ${provisioner} both name host ${host.name}; each host-placed provisioner of a replica needs its own host name`,
        { details: { field: 'host', host: host.name, provisioners: [other, provisioner] } },
      );
    }
    byName.set(host.name, provisioner);
  }
}
