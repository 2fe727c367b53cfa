/**
 * What the RunPod provisioner offers by name: the configured container images (by their catalog
 * name, with the image they pull) and GPU types as sizes (no API call, no key, no prices). A GPU
 * type fixes only the GPU: vCPU, RAM and disk stay the minimums the request's spec gives.
 */
import type { Catalog } from '@slipway/core';
import type { RunpodConfig } from './config.js';

export function runpodCatalog(config: RunpodConfig): Catalog {
  const defaultGpu = config.defaults.gpuType ?? config.gpuTypes[0]?.id;
  return {
    imageOption: 'image',
    images: Object.entries(config.images).map(([name, image]) => ({
      name,
      description: image,
      ...(name === config.defaults.image ? { isDefault: true } : {}),
    })),
    sizeOption: 'gpuType',
    sizes: config.gpuTypes.map((gpu) => ({
      name: gpu.id,
      ...(gpu.displayName ? { description: gpu.displayName } : {}),
      gpu: {
        count: config.defaults.gpuCount,
        model: gpu.displayName ?? gpu.id,
        ...(gpu.memoryGb ? { memoryGb: gpu.memoryGb } : {}),
      },
      ...(gpu.id === defaultGpu ? { isDefault: true } : {}),
    })),
    anySpec: true,
  };
}
