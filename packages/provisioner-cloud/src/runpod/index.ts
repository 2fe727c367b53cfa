// The public surface of the RunPod provisioner. The typed documents and pod helpers stay internal:
// their declarations depend on gql.tada's generated schema types, which live in src only.
export { graphqlError, PROVIDER as RUNPOD_PROVIDER, RunpodClient, type RunpodClientOptions } from './client.js';
export {
  CLOUD_TYPES,
  type CloudType,
  NAME_PREFIX as RUNPOD_NAME_PREFIX,
  type PodData,
  type PodPlan,
  parseRunpodConfig,
  planPod,
  podName,
  RUNPOD_GRAPHQL_URL,
  type RunpodConfig,
  type RunpodConfigInput,
  RunpodConfigSchema,
  type RunpodGpuType,
  RunpodGpuTypeSchema,
  type RunpodOptions,
  runpodOptionsSchema,
} from './config.js';
export { type RunpodDeps, type RunpodProvisioner, runpodProvisioner } from './runpod-provisioner.js';
