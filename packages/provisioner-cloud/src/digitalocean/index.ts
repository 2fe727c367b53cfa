// The DigitalOcean provisioner's public surface (the package index re-exports it).
export {
  type CallOptions,
  classify,
  DigitalOceanClient,
  type DigitalOceanClientOptions,
  type Droplet,
  type DropletAction,
  type DropletActionType,
  type DropletCreate,
  isPendingEvent,
  nextPage,
  PROVIDER as DIGITALOCEAN_PROVIDER,
  publicIpv4,
  type Region,
  type Size,
} from './client.js';
export {
  chooseSize,
  DEFAULT_DIGITALOCEAN_IMAGES,
  DEFAULT_DIGITALOCEAN_REGIONS,
  DEFAULT_DIGITALOCEAN_SIZES,
  type DigitalOceanConfig,
  type DigitalOceanConfigInput,
  DigitalOceanConfigSchema,
  type DigitalOceanOptions,
  type DigitalOceanSize,
  DigitalOceanSizeSchema,
  digitalOceanOptionsSchema,
  parseDigitalOceanConfig,
  placement,
} from './config.js';
export type { components as DigitalOceanComponents, paths as DigitalOceanPaths } from './generated/openapi.js';
export {
  type DigitalOceanDeps,
  type DigitalOceanProvisioner,
  digitalOceanProvisioner,
} from './provisioner.js';
export { type DropletTags, dropletTags, tagValue } from './tags.js';
