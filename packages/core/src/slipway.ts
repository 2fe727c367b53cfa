/**
 * `createSlipway()`: the whole core, wired, for embedding in any Node app. No DI container
 * needed here; the server's composition root uses tsyringe on top of this.
 */
import { AccountService } from './accounts/account-service.js';
import { EventLog } from './events/event-log.js';
import { CreditLedger } from './ledger/ledger.js';
import { silentLogger, systemClock } from './logger.js';
import { Pricer, type PricingConfig } from './pricing/pricer.js';
import type { PricingPolicy, PricingPolicyName } from './pricing/pricing.js';
import type { Clock, Logger, Provisioner } from './provisioner/provisioner.js';
import { ProvisionerRegistry } from './provisioner/registry.js';
import type { RuntimeOptions } from './provisioner/runtime-provisioner.js';
import { DEFAULT_RESOURCE_POLICY, type ResourcePolicy, ResourceService } from './resources/resource-service.js';
import { type DatabaseConfig, openDatabase, type SlipwayStorage } from './storage/database.js';

export interface SlipwayOptions {
  /** Where to keep state: a config to open, or storage opened already. */
  database: DatabaseConfig | SlipwayStorage;
  provisioners?: Provisioner[];
  /** Pricing policy per provisioner name; `defaultPricing` for the rest. */
  pricing?: PricingConfig;
  defaultPricing?: PricingPolicyName | PricingPolicy;
  policy?: Partial<ResourcePolicy>;
  /** Per-call provisioner time-outs. */
  runtime?: RuntimeOptions;
  logger?: Logger;
  clock?: Clock;
}

export interface Slipway {
  readonly storage: SlipwayStorage;
  readonly registry: ProvisionerRegistry;
  readonly ledger: CreditLedger;
  readonly events: EventLog;
  readonly accounts: AccountService;
  readonly resources: ResourceService;
  readonly pricer: Pricer;
  /** Close the database if Slipway opened it. */
  close(): Promise<void>;
}

export async function createSlipway(options: SlipwayOptions): Promise<Slipway> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const ownsStorage = !('db' in options.database);
  const storage = 'db' in options.database ? options.database : await openDatabase(options.database);
  const registry = new ProvisionerRegistry({ logger, clock });
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
  const db = storage.db;
  return {
    storage,
    registry,
    ledger,
    events,
    pricer,
    accounts: new AccountService({ db, ledger, events }),
    resources: new ResourceService({ db, registry, ledger, events, pricer, clock, logger, policy }),
    close: async () => {
      if (ownsStorage) await storage.close();
    },
  };
}
