// @slipway/core public API. Everything a plugin author, embedder or the server needs.

export { AccountIdSchema, AccountService, type AccountWithWallet } from './accounts/account-service.js';
export * from './domain.js';
export {
  ERROR_CODES,
  type ErrorCode,
  errorMessage,
  InsufficientCreditsError,
  isSlipwayError,
  SlipwayError,
  type SlipwayErrorOptions,
} from './errors.js';
export { type EventHistoryQuery, eventHistoryQuery, listEventHistory } from './events/event-history.js';
export {
  EVENTS_CHANNEL,
  EventLog,
  type EventQuery,
  type EventType,
  type NewEvent,
  type Severity,
  type SlipwayEvent,
} from './events/event-log.js';
export { EventService, type EventServiceDeps } from './events/event-service.js';
export {
  type AppendEvent,
  adminEventSink,
  resourceEventSink,
  type StoredEventSink,
  storedEventSink,
  systemEventSink,
} from './events/event-sinks.js';
export { EventStream, type WatchOptions } from './events/event-stream.js';
export { FAULT_POINTS, type FaultPoint, faultPoint, setFaultHook } from './faults.js';
export { type PlacementRequest, placeResource, previewPlacement } from './hosts/host-placement.js';
export type { HostCapacity, HostRow, HostUsage } from './hosts/host-repository.js';
export { type HostInfo, HostService, type HostServiceDeps } from './hosts/host-service.js';
export {
  type RestoreDeps,
  restoreHostResources,
  type StalenessDeps,
  sweepStaleHosts,
} from './hosts/host-staleness.js';
export { DEFAULT_HOST_SETTINGS, type HostSettings, LocalHosts } from './hosts/local-hosts.js';
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './jobs/backoff.js';
export type { KindPattern } from './jobs/job-claim.js';
export type { JobHistoryEntry, JobOutcome } from './jobs/job-history.js';
export { type EnqueueInput, enqueueJob, JOB_PRIORITY, JOBS_CHANNEL } from './jobs/job-queue.js';
export { type Job, type JobHandler, JobRunner, type JobRunnerOptions } from './jobs/job-runner.js';
export { type JobScheduler, jobScheduler } from './jobs/job-scheduler.js';
export { CreditLedger, type LedgerAudit, type ReserveInput } from './ledger/ledger.js';
export { assertStorableInput, type InputProblem, inputProblem, stringProblem } from './limits/input-policy.js';
export { LIMITS, type Limits } from './limits/limits.js';
export { DEFAULT_RATE_LIMITS, type RateLimit, RateLimiter, type RateLimits } from './limits/rate-limiter.js';
export { consoleLogger, silentLogger, systemClock } from './logger.js';
export * from './operation-domain.js';
export { Pricer, type PricingConfig } from './pricing/pricer.js';
export {
  computePricing,
  PRICING_POLICIES,
  type PricingPolicy,
  type PricingPolicyName,
  standardPricing,
} from './pricing/pricing.js';
export { parseQuantity } from './pricing/quantity.js';
export { type AllocationRecords, allocationRecords } from './provisioner/allocation-records.js';
export type {
  CapabilityName,
  Catalog,
  CatalogImage,
  CatalogSize,
  DetachResult,
  HasCatalog,
  HostDescriptor,
  HostPlaced,
  Hotplug,
  HotplugDevice,
  Inventory,
  InventoryItem,
  JobHandlers,
  MachineReport,
  PoolRefresh,
  PoolRefreshResult,
  PowerControl,
  PowerResult,
  PriceQuote,
  ProvisionerCapabilities,
  ProvisionerJobHandler,
  QuoteTerms,
  Reconfigurable,
  ReconfigureChange,
  ReconfigureResult,
  ValidatesOptions,
  WatchContext,
  WatchHandle,
  With,
} from './provisioner/capabilities.js';
export { CAPABILITY_NAMES, capabilitiesOf } from './provisioner/capabilities.js';
export { cloudInitUserData } from './provisioner/cloud-init.js';
export { defineProvisioner } from './provisioner/define-provisioner.js';
export {
  type DemoProvisioner,
  type DemoProvisionerOptions,
  demoOptionsSchema,
  demoProvisioner,
} from './provisioner/demo-provisioner.js';
export { memoryProvisionerStore } from './provisioner/memory-provisioner-store.js';
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
  ProvisionerOptions,
} from './provisioner/provisioner.js';
export type {
  JobQueue,
  JobRequest,
  ProvisionerStore,
  StoreEntry,
  StoreWriteOptions,
} from './provisioner/provisioner-store.js';
export { ProvisionerRegistry, type RegistryDeps } from './provisioner/registry.js';
export {
  CATALOG_TTL_MS,
  type CallContext,
  type RuntimeOperation,
  type RuntimeOptions,
  RuntimeProvisioner,
} from './provisioner/runtime-provisioner.js';
export type { WaitOptions } from './resources/await-settled.js';
export type { Quote } from './resources/create-flow.js';
export {
  isTransient,
  JOB_KINDS,
  jobKeys,
  RETRY_FOREVER,
  type ReleaseCause,
  type ResourceJobs,
  resourceJobs,
} from './resources/jobs/resource-jobs.js';
export {
  ACTION_CAPABILITY,
  type ActionContext,
  allowedActions,
  checkAction,
} from './resources/operations/allowed-actions.js';
export { REAPER_JOB, Reaper, reaperKey } from './resources/reaper/reaper.js';
export {
  DEFAULT_REAPER_SETTINGS,
  type OrphanSweep,
  type ReaperScope,
  type ReaperSettings,
} from './resources/reaper/reaper-settings.js';
export {
  LAG_PAGE,
  type LagKind,
  type LagQuery,
  type LagSample,
  releaseLagSamples,
} from './resources/release-lag.js';
export {
  type ListResourcesQuery,
  type ResourcePage,
  resourceCursor,
  resourceListQuery,
} from './resources/resource-list.js';
export { DEFAULT_RESOURCE_POLICY, type ResourcePolicy } from './resources/resource-policy.js';
export { ResourceService, type ResourceServiceDeps } from './resources/resource-service.js';
export { activeJobCount, ResourceWorkflows } from './resources/resource-workflows.js';
export {
  DEFAULT_RETENTION,
  type RetentionResult,
  type RetentionSettings,
} from './resources/sweepers/retention.js';
export type { WorkerDeps } from './resources/worker-deps.js';
export { createSlipway, type Slipway, type SlipwayOptions, type SweepResult } from './slipway.js';
export { type DatabaseConfig, type DatabaseEngine, openDatabase, type SlipwayStorage } from './storage/database.js';
export type { Executor } from './storage/executor.js';
export { MIGRATIONS, migrateToLatest } from './storage/migrations.js';
export { LISTEN_APPLICATION_NAME, type ListenOptions } from './storage/pg-listener.js';
export type { SlipwayDatabase } from './storage/schema.js';
export { sqlProvisionerStore } from './storage/sql-provisioner-store.js';
export { sleep } from './util/abort.js';
