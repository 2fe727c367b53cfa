/**
 * The composition root: the only place that uses tsyringe (core stays decorator-free).
 * Everything is registered with useValue/useFactory, so no decorator metadata is needed.
 *
 * Every service createApp hands to the core is resolved here by token, so an embedder
 * overrides any of them by registering another value under the same token on the container
 * from createServerContainer before calling createApp (the last registration wins), and
 * adds provisioners by registering more values under TOKENS.Provisioner.
 */
import 'reflect-metadata';
import {
  type Clock,
  consoleLogger,
  demoProvisioner,
  type Logger,
  type PricingConfig,
  type PricingPolicy,
  type PricingPolicyName,
  type Provisioner,
  type RateLimits,
  type ResourcePolicy,
  type RetentionSettings,
  type Slipway,
  type SlipwayOptions,
  systemClock,
} from '@slipway/core';
import { cloudProvisionersFromEnv } from '@slipway/provisioner-cloud';
import { poolProvisionerFromEnv } from '@slipway/provisioner-pool';
import { qemuProvisionerFromEnv } from '@slipway/provisioner-qemu';
import { container, type DependencyContainer, type InjectionToken, instanceCachingFactory } from 'tsyringe';
import type { ServerConfig } from './config.js';

export const TOKENS = {
  Config: Symbol('Config') as InjectionToken<ServerConfig>,
  /** Registered many times: one registration per provisioner. */
  Provisioner: Symbol('Provisioner') as InjectionToken<Provisioner>,
  /** Registered by createApp once the core is up (creating it is async). */
  Slipway: Symbol('Slipway') as InjectionToken<Slipway>,
  /** Default: JSON lines on stderr at LOG_LEVEL. */
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  /** The core's clock. Default: the system clock. */
  Clock: Symbol('Clock') as InjectionToken<Clock>,
  /** Pricing policy per provisioner name. Default: none (a provisioner's own quote, else DefaultPricing). */
  Pricing: Symbol('Pricing') as InjectionToken<PricingConfig>,
  /** Pricing of a provisioner with neither an entry in Pricing nor its own quote. Default: 'standard'. */
  DefaultPricing: Symbol('DefaultPricing') as InjectionToken<PricingPolicyName | PricingPolicy>,
  /** Per-account rate limits per action. Default: SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE creates per minute. */
  RateLimits: Symbol('RateLimits') as InjectionToken<RateLimits>,
  /** Resource policy (hold TTL, waits, refunds, ...). Default: SLIPWAY_HOLD_TTL_SECONDS and SLIPWAY_WAIT_SECONDS over the core's defaults. */
  ResourcePolicy: Symbol('ResourcePolicy') as InjectionToken<Partial<ResourcePolicy>>,
} as const;

export interface ServerContainerOptions {
  provisioners?: Provisioner[];
  /** Where the pool and QEMU provisioners read VM_POOL_* / SLIPWAY_QEMU_CONFIG (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export function createServerContainer(config: ServerConfig, options: ServerContainerOptions = {}): DependencyContainer {
  const c = container.createChildContainer();
  c.register(TOKENS.Config, { useValue: config });
  c.register(TOKENS.Logger, {
    useFactory: instanceCachingFactory(() => options.logger ?? consoleLogger(config.logLevel)),
  });
  c.register(TOKENS.Clock, { useValue: systemClock });
  c.register(TOKENS.Pricing, { useValue: {} });
  c.register(TOKENS.DefaultPricing, { useValue: 'standard' });
  c.register(TOKENS.RateLimits, {
    useValue:
      config.rateLimitCreatesPerMinute > 0
        ? { createResource: { limit: config.rateLimitCreatesPerMinute, windowMs: 60_000 } }
        : {},
  });
  c.register(TOKENS.ResourcePolicy, {
    useValue: { holdTtlMs: config.holdTtlSeconds * 1000, waitMs: config.waitSeconds * 1000 },
  });
  // persistent: demo machines live in the database, so they survive a restart like real ones.
  if (config.provisionerDemo) c.register(TOKENS.Provisioner, { useValue: demoProvisioner({ persistent: true }) });
  // A pool from VM_POOL_JSON / VM_POOL_FILE, or the demo pool in demo mode; a bad pool stops start-up.
  const pool = poolProvisionerFromEnv(options.env ?? process.env, { demo: config.provisionerDemo });
  if (pool) c.register(TOKENS.Provisioner, { useValue: pool });
  // QEMU VMs on this host when SLIPWAY_QEMU_CONFIG names a config file; a bad one stops start-up.
  const qemu = qemuProvisionerFromEnv(options.env ?? process.env);
  if (qemu) c.register(TOKENS.Provisioner, { useValue: qemu });
  // DigitalOcean and RunPod when their secret is set (env or SLIPWAY_CLOUD_CONFIG); a bad config stops start-up.
  for (const p of cloudProvisionersFromEnv(options.env ?? process.env)) c.register(TOKENS.Provisioner, { useValue: p });
  for (const p of options.provisioners ?? []) c.register(TOKENS.Provisioner, { useValue: p });
  return c;
}

/** Every provisioner registered on `c` (or its parents); none is not an error. */
export function resolveProvisioners(c: DependencyContainer): Provisioner[] {
  return c.isRegistered(TOKENS.Provisioner, true) ? c.resolveAll(TOKENS.Provisioner) : [];
}

/** What createApp passes to createSlipway, resolved from the container (so overrides take effect). */
export function resolveCoreOptions(c: DependencyContainer): Omit<SlipwayOptions, 'database'> {
  const config = c.resolve(TOKENS.Config);
  return {
    provisioners: resolveProvisioners(c),
    pricing: c.resolve(TOKENS.Pricing),
    defaultPricing: c.resolve(TOKENS.DefaultPricing),
    policy: c.resolve(TOKENS.ResourcePolicy),
    rateLimits: c.resolve(TOKENS.RateLimits),
    jobs: {
      leaseMs: config.jobLeaseMs,
      concurrency: config.jobConcurrency,
      urgentSlots: config.jobUrgentSlots,
      backgroundSlots: config.jobBackgroundSlots,
    },
    sweepIntervalMs: config.sweepIntervalMs,
    retention: retentionFromDays(config.retention),
    reaper: config.reaper,
    hosts: config.hosts,
    logger: c.resolve(TOKENS.Logger),
    clock: c.resolve(TOKENS.Clock),
  };
}

/** Retention periods in days (0: keep for ever) as the core takes them. */
function retentionFromDays(days: ServerConfig['retention']): Partial<RetentionSettings> {
  const ms = (d: number) => (d === 0 ? null : d * 24 * 3_600_000);
  return {
    eventsMs: ms(days.eventsDays),
    finishedResourcesMs: ms(days.resourcesDays),
    releasedMachinesMs: ms(days.machinesDays),
  };
}
