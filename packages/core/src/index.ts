// @slipway/core public API. Everything a plugin author, embedder or the server needs.

export { AccountIdSchema, AccountService, type AccountWithWallet } from './accounts/account-service.js';
export * from './domain.js';
export {
  ERROR_CODES,
  type ErrorCode,
  InsufficientCreditsError,
  isSlipwayError,
  SlipwayError,
  type SlipwayErrorOptions,
} from './errors.js';
export {
  EVENTS_CHANNEL,
  EventLog,
  type EventQuery,
  type EventType,
  type NewEvent,
  type Severity,
  type SlipwayEvent,
} from './events/event-log.js';
export { CreditLedger, type LedgerAudit, type ReserveInput } from './ledger/ledger.js';
export { consoleLogger, silentLogger, systemClock } from './logger.js';
export { Pricer, type PricingConfig } from './pricing/pricer.js';
export {
  computePricing,
  PRICING_POLICIES,
  type PricingPolicy,
  type PricingPolicyName,
  standardPricing,
} from './pricing/pricing.js';
export { parseQuantity } from './pricing/quantity.js';
export type {
  CapabilityName,
  Hotplug,
  HotplugDevice,
  Inventory,
  PoolRefresh,
  PowerControl,
  PriceQuote,
  Reconfigurable,
  ValidatesOptions,
} from './provisioner/capabilities.js';
export { CAPABILITIES, capabilitiesOf } from './provisioner/capabilities.js';
export {
  type DemoProvisioner,
  type DemoProvisionerOptions,
  demoOptionsSchema,
  demoProvisioner,
} from './provisioner/demo-provisioner.js';
export type {
  Allocation,
  AllocationRequest,
  AllocationStatus,
  Clock,
  EventSink,
  Logger,
  ProvisionContext,
  Provisioner,
  ProvisionerEvent,
} from './provisioner/provisioner.js';
export { ProvisionerRegistry } from './provisioner/registry.js';
export { type CallContext, type RuntimeOptions, RuntimeProvisioner } from './provisioner/runtime-provisioner.js';
export {
  DEFAULT_RESOURCE_POLICY,
  type ListResourcesQuery,
  type Quote,
  type ResourcePage,
  type ResourcePolicy,
  ResourceService,
} from './resources/resource-service.js';
export { createSlipway, type Slipway, type SlipwayOptions } from './slipway.js';
export { type DatabaseConfig, type DatabaseEngine, openDatabase, type SlipwayStorage } from './storage/database.js';
export type { Executor } from './storage/executor.js';
export { MIGRATIONS, migrateToLatest } from './storage/migrations.js';
export type { SlipwayDatabase } from './storage/schema.js';
