/**
 * What the DigitalOcean provisioner offers by name: the configured images and sizes (no API
 * call, no token, no prices: `quote` prices a request). Any spec is fine without a size: the
 * cheapest non-GPU size that holds it is picked (config.ts, chooseSize).
 */
import type { Catalog } from '@slipway/core';
import type { DigitalOceanConfig } from './config.js';

export function digitalOceanCatalog(config: DigitalOceanConfig): Catalog {
  return {
    imageOption: 'image',
    images: config.images.map((name) => ({
      name,
      ...(name === config.defaults.image ? { isDefault: true } : {}),
    })),
    sizeOption: 'size',
    sizes: config.sizes.map((size) => ({
      name: size.slug,
      vcpu: size.vcpu,
      memoryMb: size.memoryMb,
      diskGb: size.diskGb,
      ...(size.gpu ? { gpu: { count: size.gpu.count, model: size.gpu.model } } : {}),
    })),
    anySpec: true,
  };
}
