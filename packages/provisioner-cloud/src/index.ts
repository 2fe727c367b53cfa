/**
 * @slipway/provisioner-cloud: provisioners for DigitalOcean droplets and RunPod pods, and
 * `cloudProvisionersFromEnv`, which registers those whose secret is configured.
 */
export { CLOUD_CONFIG_VARIABLE, type CloudFromEnvDeps, cloudProvisionersFromEnv } from './cloud-from-env.js';
export * from './digitalocean/index.js';
export * from './runpod/index.js';
export {
  httpError,
  isProviderError,
  type ProviderFailureKind,
  ProviderHttpError,
  redact,
  retryAfterMs,
  toSlipwayError,
} from './shared/provider-error.js';
export { ProviderPolicy, type ProviderPolicyOptions, type RunOptions } from './shared/provider-policy.js';
