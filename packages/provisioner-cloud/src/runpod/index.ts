export { graphqlError, PROVIDER as RUNPOD_PROVIDER, RunpodClient, type RunpodClientOptions } from './client.js';
export {
  CLOUD_TYPES,
  type CloudType,
  type PodPlan,
  parseRunpodConfig,
  planPod,
  RUNPOD_GRAPHQL_URL,
  type RunpodConfig,
  type RunpodConfigInput,
  RunpodConfigSchema,
  type RunpodGpuType,
  RunpodGpuTypeSchema,
  type RunpodOptions,
  runpodOptionsSchema,
} from './config.js';
export type { PodData } from './pod-allocate.js';
export {
  envValue,
  NAME_PREFIX as RUNPOD_NAME_PREFIX,
  PodApi,
  type PodView,
  podName,
  podState,
  sshEndpoint,
} from './pods.js';
export { type RunpodDeps, type RunpodProvisioner, runpodProvisioner } from './runpod-provisioner.js';
