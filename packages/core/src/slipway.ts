/**
 * `createSlipway()`: the whole core, wired, for embedding in any Node app. No DI container
 * here; the server's composition root uses tsyringe on top of this.
 *
 * Request-side methods work without `start()`: a create runs its own job inline. `start()`
 * adds the background loops every replica should run: the job runner (woken by NOTIFY), the
 * sweepers (on one replica at a time, the sweep lease's holder: expired holds, expired
 * resources, silent hosts, operations left claimed, history past its retention; and on every
 * replica the orphan reaper's sweeps of its provisioners with `inventory`, run as deduplicated
 * jobs), the
 * watchers of provisioners with the `watch` capability, and registers and heartbeats the
 * hosts of host-placed provisioners (all stopped again by `close()`).
 */
import { AccountService } from './accounts/account-service.js';
import type { Actor } from './domain.js';
import { EventLog, type SlipwayEvent } from './events/event-log.js';
import { EventService } from './events/event-service.js';
import { EventStream, type WatchOptions } from './events/event-stream.js';
import { HostService } from './hosts/host-service.js';
import { type HostSettings, LocalHosts } from './hosts/local-hosts.js';
import type { BackoffPolicy } from './jobs/backoff.js';
import { enqueueJob, JOB_PRIORITY, JOBS_CHANNEL } from './jobs/job-queue.js';
import { JobRunner } from './jobs/job-runner.js';
import { jobScheduler } from './jobs/job-scheduler.js';
import { CreditLedger } from './ledger/ledger.js';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from './limits/rate-limiter.js';
import { silentLogger, systemClock } from './logger.js';
import { Pricer, type PricingConfig } from './pricing/pricer.js';
import type { PricingPolicy, PricingPolicyName } from './pricing/pricing.js';
import type { Clock, Logger, Provisioner } from './provisioner/provisioner.js';
import type { JobQueue } from './provisioner/provisioner-store.js';
import { ProvisionerRegistry } from './provisioner/registry.js';
import type { RuntimeOptions } from './provisioner/runtime-provisioner.js';
import { resourceJobs } from './resources/jobs/resource-jobs.js';
import { Reaper } from './resources/reaper/reaper.js';
import type { ReaperSettings } from './resources/reaper/reaper-settings.js';
import { DEFAULT_RESOURCE_POLICY, type ResourcePolicy } from './resources/resource-policy.js';
import { ResourceService } from './resources/resource-service.js';
import { ResourceWorkflows } from './resources/resource-workflows.js';
import {
  DEFAULT_RETENTION,
  pruneRetained,
  type RetentionResult,
  type RetentionSettings,
} from './resources/sweepers/retention.js';
import { dropSweepLease, takeSweepLease } from './resources/sweepers/sweep-lease.js';
import { Watchers } from './resources/watch/watchers.js';
import { type DatabaseConfig, openDatabase, type SlipwayStorage } from './storage/database.js';
import { sqlProvisionerStore } from './storage/sql-provisioner-store.js';

export interface SlipwayOptions {
  /** Where to keep state: a config to open, or storage opened already. */
  database: DatabaseConfig | SlipwayStorage;
  provisioners?: Provisioner[];
  /** Pricing policy per provisioner name; `defaultPricing` for the rest. */
  pricing?: PricingConfig;
  defaultPricing?: PricingPolicyName | PricingPolicy;
  policy?: Partial<ResourcePolicy>;
  /** Per-account limits per action (default: createResource 5 per minute). */
  rateLimits?: RateLimits;
  /** Per-call provisioner time-outs. */
  runtime?: RuntimeOptions;
  /** The job runner (`JobRunnerOptions`): slots, slots kept for user work and for background work, caps per kind, lease, poll. */
  jobs?: {
    leaseMs?: number;
    concurrency?: number;
    urgentSlots?: number;
    backgroundSlots?: number;
    kindConcurrency?: Record<string, number>;
    pollMs?: number;
    backoff?: Partial<BackoffPolicy>;
    /** Jitter source (a seeded PRNG makes retries reproducible). */
    random?: () => number;
  };
  /** Host heartbeats (host-placed provisioners): every 5 s, stale after 30 s by default. */
  hosts?: Partial<HostSettings>;
  /**
   * How often the sweepers run after `start()` (ms), on one replica at a time (the holder of
   * the sweep lease, taken over `3 × sweepIntervalMs` (at least 15 s) after its holder stops).
   * Default 5 s.
   */
  sweepIntervalMs?: number;
  /** How long history is kept: events, finished resources, released machines' store rows (docs/operations.md). */
  retention?: Partial<RetentionSettings>;
  /**
   * The orphan reaper of provisioners with `inventory`: a sweep every `intervalMs` (default
   * 5 min) per provisioner, orphans released after `graceMs` (default 10 min). See docs/reliability.md.
   */
  reaper?: Partial<ReaperSettings>;
  logger?: Logger;
  clock?: Clock;
}

export interface Slipway {
  readonly storage: SlipwayStorage;
  readonly registry: ProvisionerRegistry;
  readonly ledger: CreditLedger;
  /** The event log inside transactions (`append(trx, …)`, `list(db, …)`); see `eventService` otherwise. */
  readonly events: EventLog;
  /** Events without a database handle: `list(actor, query)`, `append(event)`, and event sinks. */
  readonly eventService: EventService;
  readonly accounts: AccountService;
  readonly resources: ResourceService;
  readonly pricer: Pricer;
  readonly jobs: JobRunner;
  readonly workflows: ResourceWorkflows;
  readonly stream: EventStream;
  /** Hosts of host-placed provisioners: registration, heartbeats, staleness, the admin list. */
  readonly hosts: HostService;
  /** The orphan reaper: its settings, the sweeps it schedules, the last sweep per provisioner (admins). */
  readonly reaper: Reaper;
  /** Events visible to `actor`, replayed from `after` and then followed live. */
  watch(actor: Actor, opts?: WatchOptions): AsyncGenerator<SlipwayEvent>;
  /** Run every job that is due now (tests, scripts); returns how many ran. */
  runJobs(): Promise<number>;
  /**
   * One pass of the sweepers, here and now: expired holds, expired resources, hosts gone
   * silent, operations left claimed, history past its retention; and the orphan reaper's next
   * sweeps enqueued (`reaperSweepsScheduled`).
   */
  sweep(): Promise<SweepResult>;
  /**
   * What `start()` runs every `sweepIntervalMs`: the orphan reaper's scheduling for this
   * replica's scopes, and `sweep()` if this replica holds (or takes) the sweep lease;
   * undefined when another replica holds it.
   */
  sweepAsLeader(): Promise<SweepResult | undefined>;
  /**
   * Register this replica's hosts (HOST_IN_USE when another live replica serves one of the
   * names), then start heartbeats, the job loop, the sweepers and the provisioners' watchers.
   */
  start(): Promise<void>;
  /** Stop background work, then close the database if Slipway opened it. */
  close(): Promise<void>;
}

export interface SweepResult {
  holdsReconciled: number;
  expired: number;
  staleHosts: number;
  operationsFailed: number;
  reaperSweepsScheduled: number;
  /** Rows deleted because their retention period passed. */
  retained: RetentionResult;
}

/** The lease the sweeping replica holds (sweepers/sweep-lease.ts). */
const SWEEP_LEASE = 'sweep';

export async function createSlipway(options: SlipwayOptions): Promise<Slipway> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const ownsStorage = !('db' in options.database);
  const storage = 'db' in options.database ? options.database : await openDatabase(options.database);
  const db = storage.db;

  const jobsFor = (provisioner: string): JobQueue => ({
    enqueue: async (job) => {
      await enqueueJob(db, clock.now(), {
        kind: `provisioner:${provisioner}:${job.kind}`,
        payload: job.payload,
        key: job.key ? `provisioner:${provisioner}:${job.key}` : null,
        ...(job.maxAttempts !== undefined ? { maxAttempts: job.maxAttempts } : {}),
        ...(job.runAt ? { runAt: job.runAt } : {}),
        // A host-placed provisioner's own work runs on the host that asked for it.
        host: registry.get(provisioner).host()?.name ?? null,
        // Hooks and refreshes: bulk work, after what users wait for.
        priority: JOB_PRIORITY.background,
      });
    },
  });
  const registry = new ProvisionerRegistry({
    logger,
    clock,
    storeFor: (name) => sqlProvisionerStore(db, name),
    jobsFor,
  });
  try {
    for (const p of options.provisioners ?? []) registry.register(p, options.runtime);
  } catch (error) {
    if (ownsStorage) await storage.close();
    throw error;
  }

  const ledger = new CreditLedger();
  const events = new EventLog();
  const pricer = new Pricer(options.pricing, options.defaultPricing);
  const policy = { ...DEFAULT_RESOURCE_POLICY, ...options.policy };
  const limiter = new RateLimiter(options.rateLimits ?? DEFAULT_RATE_LIMITS);
  // The runner claims pinned jobs of the hosts this replica serves; its id is the replica's.
  const runner = new JobRunner({ db, clock, logger, ...options.jobs, hosts: (): string[] => hosts.names() });
  const hosts = new LocalHosts(runner.workerId, options.hosts);
  const eventService = new EventService({ db, log: events, logger });
  const jobs = resourceJobs(jobScheduler(runner), policy);
  const workerDeps = { db, registry, ledger, events, eventService, jobs, clock, logger, policy, limiter, hosts };
  const workflows = new ResourceWorkflows(workerDeps);
  workflows.register(runner);
  let reaper: Reaper;
  try {
    reaper = new Reaper(workerDeps, options.reaper);
  } catch (error) {
    if (ownsStorage) await storage.close();
    throw error;
  }
  reaper.register(runner);
  const stream = new EventStream({ storage, log: events, logger });
  const resources = new ResourceService({
    db,
    registry,
    ledger,
    events,
    eventService,
    pricer,
    clock,
    policy,
    limiter,
    jobs,
    hosts,
  });
  const hostService = new HostService({ db, registry, events, eventService, clock, logger, local: hosts });

  const watchers = new Watchers({ registry, eventService, logger }, (name, id, report) =>
    workflows.report(name, id, report),
  );
  let sweepTimer: NodeJS.Timeout | undefined;
  let unlistenJobs: (() => Promise<void>) | undefined;
  let closed = false;
  const retention = { ...DEFAULT_RETENTION, ...options.retention };
  const sweepEvery = options.sweepIntervalMs ?? 5_000;
  const sweepShared = async (): Promise<Omit<SweepResult, 'reaperSweepsScheduled'>> => ({
    ...(await workflows.sweep()),
    staleHosts: await hostService.sweepStale(),
    retained: await pruneRetained(db, { now: clock.now(), wallNow: new Date() }, retention),
  });
  const sweep = async (): Promise<SweepResult> => ({
    ...(await sweepShared()),
    reaperSweepsScheduled: await reaper.schedule(),
  });
  const sweepAsLeader = async (): Promise<SweepResult | undefined> => {
    // The reaper's scopes are this replica's own (its hosts): every replica schedules them.
    const reaperSweepsScheduled = await reaper.schedule();
    const ttl = Math.max(3 * sweepEvery, 15_000);
    if (!(await takeSweepLease(db, SWEEP_LEASE, runner.workerId, ttl))) return undefined;
    return { ...(await sweepShared()), reaperSweepsScheduled };
  };

  return {
    storage,
    registry,
    ledger,
    events,
    eventService,
    pricer,
    jobs: runner,
    workflows,
    stream,
    hosts: hostService,
    reaper,
    accounts: new AccountService({ db, ledger, events }),
    resources,
    watch: (actor, opts) => stream.watch(actor, opts),
    runJobs: () => runner.runDue(),
    sweep,
    sweepAsLeader,
    async start() {
      if (closed) throw new Error('slipway is closed');
      await hostService.start();
      unlistenJobs ??= await storage.listen(JOBS_CHANNEL, () => runner.wake(), {
        onReconnect: () => runner.wake(), // a NOTIFY may have been missed: claim what is due
        onError: (error) => logger.warn('job LISTEN connection lost', { error: String(error) }),
      });
      runner.start();
      if (!sweepTimer) {
        const every = sweepEvery;
        const tick = () =>
          void sweepAsLeader()
            .catch((error: unknown) => logger.warn('sweep failed', { error: String(error) }))
            .finally(() => {
              if (sweepTimer) sweepTimer = setTimeout(tick, every);
            });
        sweepTimer = setTimeout(tick, every);
      }
      await watchers.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (sweepTimer) clearTimeout(sweepTimer);
      sweepTimer = undefined;
      await watchers.stop();
      // Heartbeats first, so none can claim a host back; the hosts are let go only once the
      // runner stopped, so no other replica runs their jobs while ours still finish.
      await hostService.stopHeartbeats();
      await runner.stop();
      await hostService.stop();
      // Another replica sweeps from its next tick on, not once our lease has run out.
      await dropSweepLease(db, SWEEP_LEASE, runner.workerId).catch(() => {});
      // The caller may have closed storage it owns already; unsubscribing is then moot.
      await unlistenJobs?.().catch(() => {});
      await stream.close().catch(() => {});
      if (ownsStorage) await storage.close();
    },
  };
}
