/** How RuntimeProvisioner is configured and what it needs: per-call time-outs, the call's signal and event sink, its deps. */
import type { Clock, EventSink, Logger } from './provisioner.js';
import type { JobQueue, ProvisionerStore } from './provisioner-store.js';

export interface RuntimeOptions {
  /**
   * Per-call time-outs in ms. Defaults: allocate 10 min, release 5 min, status 30 s, quote 30 s,
   * power 5 min, reconfigure 5 min, hotplug 2 min, refresh 1 min, inventory 2 min, catalog 30 s, job 10 min.
   */
  timeouts?: Partial<Record<RuntimeOperation, number>>;
}

export interface CallContext {
  signal?: AbortSignal;
  events: EventSink;
}

/** What the runtime needs to build a ProvisionContext for its plugin. */
export interface RuntimeDeps {
  logger: Logger;
  clock: Clock;
  /** This provisioner's namespaced store. */
  store: ProvisionerStore;
  /** This provisioner's job queue (kinds resolve to its `jobHandlers`). */
  jobs: JobQueue;
}

export const DEFAULT_TIMEOUTS = {
  allocate: 600_000,
  release: 300_000,
  status: 30_000,
  quote: 30_000,
  power: 300_000,
  reconfigure: 300_000,
  hotplug: 120_000,
  refresh: 60_000,
  inventory: 120_000,
  catalog: 30_000,
  job: 600_000,
};
export type RuntimeOperation = keyof typeof DEFAULT_TIMEOUTS;
