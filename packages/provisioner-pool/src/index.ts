// @slipway/provisioner-pool: hand out machines from a pre-provisioned pool.
export { DEMO_POOL } from './demo-pool.js';
export type { MachineRecord, MachineStatus } from './machine-record.js';
export { type PoolParseResult, parsePool } from './parse-pool.js';
export { type PoolMachineView, poolAllocations } from './pool-allocations.js';
export { type PoolEntryInput, type PoolMachine, type PoolSize, poolEntrySchema } from './pool-entry.js';
export { type PoolFromEnvOptions, poolProvisionerFromEnv } from './pool-from-env.js';
export {
  isPoolProvisioner,
  type PoolProvisioner,
  type PoolProvisionerOptions,
  poolProvisioner,
} from './pool-provisioner.js';
export { loadPool, type PoolSource } from './pool-source.js';
export {
  type FetchLike,
  RELEASE_HOOK_JOB,
  type ReleaseHookOptions,
  type ReleaseHookPayload,
  releaseHookJobKey,
} from './release-hook.js';
