/**
 * A provisioner's catalog (the `catalog` capability): the images and sizes a create request may
 * name, and the `options` fields their names go in, so a client can offer lists. Only what the
 * plugin chose to show: the runtime validates its answer against the contract's shape.
 */
import type { Catalog, CatalogImage, CatalogSize } from '@slipway/core';
import { builder } from '../builder.js';

type CatalogGpu = NonNullable<CatalogSize['gpu']>;

const CatalogImageType = builder.objectRef<CatalogImage>('CatalogImage').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The value for `options[imageOption]`.' }),
    description: t.exposeString('description', { nullable: true }),
    isDefault: t.boolean({
      description: 'The image a request that names none gets.',
      resolve: (i) => i.isDefault === true,
    }),
  }),
});

const CatalogGpuType = builder.objectRef<CatalogGpu>('CatalogGpu').implement({
  fields: (t) => ({
    count: t.exposeInt('count'),
    model: t.exposeString('model'),
    memoryGb: t.exposeInt('memoryGb', { nullable: true, description: 'Memory per GPU.' }),
  }),
});

const CatalogSizeType = builder.objectRef<CatalogSize>('CatalogSize').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The value for `options[sizeOption]`.' }),
    description: t.exposeString('description', { nullable: true }),
    vcpu: t.exposeFloat('vcpu', {
      nullable: true,
      description: "The spec's vcpu for this size; null: the request chooses it.",
    }),
    memoryMb: t.exposeInt('memoryMb', { nullable: true }),
    diskGb: t.exposeInt('diskGb', { nullable: true }),
    gpu: t.field({ type: CatalogGpuType, nullable: true, resolve: (s) => s.gpu ?? null }),
    isDefault: t.boolean({
      description: 'The size a request that names none gets.',
      resolve: (s) => s.isDefault === true,
    }),
  }),
});

export const CatalogType = builder.objectRef<Catalog>('ProvisionerCatalog').implement({
  description:
    'What a provisioner offers by name. To ask for an image, put its name in `options[imageOption]`; for a size, ' +
    'its name in `options[sizeOption]` and its vcpu/memoryMb/diskGb (those that are not null) in `spec`.',
  fields: (t) => ({
    imageOption: t.exposeString('imageOption', {
      nullable: true,
      description: 'The `options` field an image name goes in; null: images cannot be picked.',
    }),
    images: t.field({ type: [CatalogImageType], resolve: (c) => [...c.images] }),
    sizeOption: t.exposeString('sizeOption', {
      nullable: true,
      description: 'The `options` field a size name goes in (`size`, RunPod: `gpuType`); null: sizes cannot be picked.',
    }),
    sizes: t.field({ type: [CatalogSizeType], resolve: (c) => [...c.sizes] }),
    anySpec: t.exposeBoolean('anySpec', {
      description: 'True when a request may name no size and give any vcpu/memoryMb/diskGb (the provisioner fits it).',
    }),
  }),
});
